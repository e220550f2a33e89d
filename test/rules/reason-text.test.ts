// The alert reason in both languages: every key of the closed set renders in each, with nothing
// left unfilled; the English is the text the evaluators have always written (their own tests
// assert it through the engine's outcomes); the Chinese names metrics and durations as people say
// them. The samples are checked against the API's schema, so the renderer and the wire agree.
import { describe, expect, it } from 'vitest'
import { reasonDetailSchema, type ReasonKey, type ReasonOf } from '../../core/reason-detail.ts'
import { TEXT_LANGS } from '../../shared/catalogue-text.ts'
import { because, durationZh, isReasonDetail, reasonIn, renderReason } from '../../shared/reason-text.ts'

const MINUTE = 60_000
const forecast = { metric: 'water_level_m', op: '<', limit: 1.5, slopePerHour: -0.3, windowMs: 2 * 3_600_000 } as const

/** One reason of every key: the type fails to check when a key is added without a sample. */
const SAMPLES: { [K in ReasonKey]: ReasonOf<K> } = {
  'threshold.raise': { key: 'threshold.raise', metric: 'cover_tilt_deg', observed: 35, op: '>', limit: 30, forMs: 2 * MINUTE },
  'threshold.held': { key: 'threshold.held', forMs: 30_000 },
  'threshold.clear': { key: 'threshold.clear', conditions: [{ metric: 'cover_tilt_deg', op: '<', limit: 25 }, { metric: 'cover_open', op: '<', limit: 1 }], forMs: MINUTE },
  'rate.raise': { key: 'rate.raise', metric: 'water_level_m', rate: -0.5, perMs: MINUTE, rise: null, fall: 0.2, windowMs: 5 * MINUTE },
  'rate.clear': { key: 'rate.clear', metric: 'water_level_cm', rate: 12, perMs: 10 * MINUTE, rise: 40, fall: null, windowMs: 5 * MINUTE },
  'count.raise': { key: 'count.raise', metric: 'door_faults', mode: 'sum', filter: null, total: 3, windowMs: 10 * MINUTE, limit: 3 },
  'count.clear': { key: 'count.clear', metric: 'vibration_mg', mode: 'occurrences', filter: { op: '>', value: 1500 }, total: 2, windowMs: 10 * MINUTE, limit: 3 },
  'nodata.silent': { key: 'nodata.silent', afterMs: 10 * MINUTE },
  'nodata.offline': { key: 'nodata.offline', graceMs: 2 * MINUTE },
  'nodata.data': { key: 'nodata.data' },
  'nodata.online': { key: 'nodata.online' },
  'nodata.heard': { key: 'nodata.heard' },
  'forecast.crossed': { key: 'forecast.crossed', ...forecast, observed: 1.42 },
  'forecast.none': { key: 'forecast.none', ...forecast, slopePerHour: 0.1 },
  'forecast.predicted': { key: 'forecast.predicted', ...forecast, crossing: '2026-03-04T03:00:00.000Z', leadMs: 40 * MINUTE },
  'forecast.receded': { key: 'forecast.receded', ...forecast, crossing: '2026-03-04T05:00:00.000Z', leadMs: 160 * MINUTE, horizonMs: 2 * 3_600_000 },
  'flapping.stopped': { key: 'flapping.stopped', windowMs: 10 * MINUTE },
  'gateway.back-silent': { key: 'gateway.back-silent' },
  'rule.removed': { key: 'rule.removed' },
}

const KEYS = Object.keys(SAMPLES) as ReasonKey[]
const render = (key: ReasonKey, lang: (typeof TEXT_LANGS)[number]) => renderReason(SAMPLES[key], lang, { timeZone: 'Asia/Shanghai' })

describe('alert reasons', () => {
  it('cover exactly the keys the API accepts, each sample valid on the wire', () => {
    const accepted = reasonDetailSchema.options.map((o) => o.shape.key.value).sort()
    expect(KEYS.slice().sort()).toEqual(accepted)
    for (const key of KEYS) expect(reasonDetailSchema.safeParse(SAMPLES[key]).success, key).toBe(true)
  })

  it('render every key in both languages with nothing left unfilled', () => {
    for (const key of KEYS) {
      for (const lang of TEXT_LANGS) {
        const text = render(key, lang)
        expect(text.trim(), `${key} ${lang}`).not.toBe('')
        expect(text, `${key} ${lang}`).not.toMatch(/undefined|NaN|null|\[object|\$\{/)
        expect(text, `${key} ${lang}: the raw key`).not.toContain(key)
      }
      // Chinese throughout, and the catalogue's metrics by their Chinese names, not their ids.
      const zh = render(key, 'zh-CN')
      expect(zh, key).toMatch(/[\u4e00-\u9fff]/)
      expect(zh, key).not.toMatch(/[a-z]+_[a-z_]+/)
      expect(zh, key).not.toMatch(/\b(for|within|limit|per|over|back|trend|min)\b/)
    }
  })

  it('read in Chinese as an operator would say them', () => {
    expect(render('threshold.raise', 'zh-CN')).toBe('井盖倾角 35 > 30，持续 2 分钟')
    expect(render('threshold.clear', 'zh-CN')).toBe('已恢复到 井盖倾角 < 25 且 井盖开启：否，持续 1 分钟')
    expect(render('nodata.silent', 'zh-CN')).toBe('10 分钟无数据')
    expect(render('nodata.offline', 'zh-CN')).toBe('设备报告离线（遗嘱消息），2 分钟内未恢复')
    expect(render('rate.raise', 'zh-CN')).toBe('水位 每 1 分钟下降 0.5（下降限值 0.2，按 5 分钟数据计算）')
    expect(render('count.raise', 'zh-CN')).toBe('门故障次数 读数合计：10 分钟内 3（限值 3）')
    expect(render('flapping.stopped', 'zh-CN')).toBe('停止频繁跳变：条件已连续 10 分钟未成立')
    // The predicted time in the recipient's zone (11:00 in Shanghai), not as an ISO string.
    expect(render('forecast.predicted', 'zh-CN')).toBe('预计 3月4日 11:00，约 40 分钟后出现 水位 < 1.5；趋势每小时 -0.3（按 2 小时数据拟合）')
    // A yes/no metric reads as a fact, not as "困人 1 >= 1"; on a measurement the numbers stay.
    const yesNo = { key: 'threshold.raise', metric: 'trapped', observed: 1, op: '>=', limit: 1, forMs: 0 } as const
    expect(renderReason(yesNo, 'zh-CN')).toBe('检测到困人')
    expect(renderReason({ ...yesNo, metric: 'running', observed: 0, op: '<', limit: 1, forMs: 5 * MINUTE }, 'zh-CN')).toBe('运行中：否，持续 5 分钟')
    expect(renderReason({ ...yesNo, op: '>=', limit: 0 }, 'zh-CN')).toBe('困人 1 >= 0')
    expect(renderReason(yesNo, 'en')).toBe('trapped 1 >= 1')
    // A metric the catalogue does not have keeps its id.
    expect(renderReason({ ...SAMPLES['threshold.raise'], metric: 'pump_amps' }, 'zh-CN')).toBe('pump_amps 35 > 30，持续 2 分钟')
  })

  it('read in English as the evaluators have always written them', () => {
    expect(render('threshold.raise', 'en')).toBe('cover_tilt_deg 35 > 30 for 2m')
    expect(render('threshold.clear', 'en')).toBe('back to cover_tilt_deg < 25 and cover_open < 1 for 1m')
    expect(render('rate.raise', 'en')).toBe('water_level_m falling 0.5 per 1m (fall limit 0.2, over 5m)')
    // A rule without a rise limit clearing on a rising trend: the text it always had.
    expect(renderReason({ ...SAMPLES['rate.raise'], key: 'rate.clear', rate: 0.1 }, 'en')).toBe('water_level_m rising 0.1 per 1m (rise limit Infinity, over 5m): back within limits')
    expect(render('count.clear', 'en')).toBe('vibration_mg > 1500 readings: 2 within 10m, below 3')
    expect(render('forecast.receded', 'en')).toBe('water_level_m < 1.5 no longer predicted within 2h (2026-03-04T05:00:00.000Z, in 160 min); trend -0.3 per hour over 2h')
    expect(render('gateway.back-silent', 'en')).toBe('still silent after its gateway came back')
    expect(render('rule.removed', 'en')).toBe('rule or device removed or disabled')
    expect(because(SAMPLES['nodata.silent'])).toEqual({ reason: 'no data for 10m', reasonDetail: SAMPLES['nodata.silent'] })
  })

  it('spell durations in Chinese in the largest exact unit', () => {
    expect([30_000, 90_000, 2 * MINUTE, 3_600_000, 86_400_000, 250, 0].map(durationZh)).toEqual(['30 秒', '90 秒', '2 分钟', '1 小时', '1 天', '250 毫秒', '0 秒'])
  })

  it('fall back to the stored text without a renderable detail', () => {
    expect(reasonIn('zh-CN', null, 'trapped 1 >= 1')).toBe('trapped 1 >= 1')
    expect(reasonIn('zh-CN', { key: 'from.a.newer.engine' }, 'stored')).toBe('stored')
    expect(reasonIn('zh-CN', SAMPLES['nodata.data'], 'data received again')).toBe('重新收到数据')
    expect(isReasonDetail('nodata.data')).toBe(false)
  })
})
