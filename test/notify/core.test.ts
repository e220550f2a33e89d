// The pure parts of the notification core: who is on call when, quiet hours, the SMS form,
// masking, sealing secrets and signing links.
import { mkdtemp, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadSecretKey, seal, unseal } from '../../core/crypto.ts'
import type { Alert } from '../../core/repos/alerts.ts'
import { LinkSigner } from '../../notify/links.ts'
import { DEFAULT_POLICIES, parsePolicy, quietUntil, stepFor } from '../../notify/policy.ts'
import { maskAddress } from '../../notify/mask.ts'
import { render, segmentMax, SMS_MAX } from '../../notify/render.ts'
import { onCallAt, shiftsBetween } from '../../notify/rota.ts'

const rota = { timezone: 'Asia/Shanghai', startsOn: '2026-03-02', handoverTime: '09:00', members: ['a', 'b', 'c'] }

describe('rota', () => {
  it('hands over weekly at the local time', () => {
    // 09:00 in Shanghai is 01:00 UTC.
    expect(onCallAt(rota, [], new Date('2026-03-02T00:59:59Z'))).toBeUndefined()
    expect(onCallAt(rota, [], new Date('2026-03-02T01:00:00Z'))?.userId).toBe('a')
    expect(onCallAt(rota, [], new Date('2026-03-09T00:59:59Z'))?.userId).toBe('a')
    expect(onCallAt(rota, [], new Date('2026-03-09T01:00:00Z'))).toMatchObject({ userId: 'b', from: new Date('2026-03-09T01:00:00Z'), to: new Date('2026-03-16T01:00:00Z') })
    expect(onCallAt(rota, [], new Date('2026-03-23T01:00:00Z'))?.userId).toBe('a')
  })

  it('follows the local clock across a daylight-saving change', () => {
    const berlin = { ...rota, timezone: 'Europe/Berlin', startsOn: '2026-03-23' }
    // CET (UTC+1) before 29 March, CEST (UTC+2) after: 09:00 local is 08:00 then 07:00 UTC.
    expect(onCallAt(berlin, [], new Date('2026-03-30T06:59:00Z'))?.userId).toBe('a')
    expect(onCallAt(berlin, [], new Date('2026-03-30T07:00:00Z'))?.userId).toBe('b')
  })

  it('the newest override covering the time wins', () => {
    const at = new Date('2026-03-03T00:00:00Z')
    const o = (userId: string, created: number) => ({ userId, startsAt: new Date('2026-03-02T12:00:00Z'), endsAt: new Date('2026-03-03T12:00:00Z'), createdAt: new Date(created) })
    expect(onCallAt(rota, [o('x', 1), o('y', 2)], at)).toMatchObject({ userId: 'y', override: true })
    expect(onCallAt(rota, [o('x', 1)], new Date('2026-03-03T12:00:00Z'))?.userId).toBe('a')
  })

  it('the timeline of a period: nobody before the first hand-over, shifts in turn, an override cut in and merged back', () => {
    const d = (iso: string) => new Date(iso)
    const cover = { userId: 'x', startsAt: d('2026-03-04T00:00:00Z'), endsAt: d('2026-03-04T12:00:00Z'), createdAt: d('2026-03-01T00:00:00Z') }
    const shifts = shiftsBetween(rota, [cover], d('2026-03-01T00:00:00Z'), d('2026-03-10T00:00:00Z'))
    expect(shifts.map((s) => [s.userId, s.from.toISOString(), s.to.toISOString(), s.override])).toEqual([
      ['a', '2026-03-02T01:00:00.000Z', '2026-03-04T00:00:00.000Z', false],
      ['x', '2026-03-04T00:00:00.000Z', '2026-03-04T12:00:00.000Z', true],
      ['a', '2026-03-04T12:00:00.000Z', '2026-03-09T01:00:00.000Z', false],
      ['b', '2026-03-09T01:00:00.000Z', '2026-03-10T00:00:00.000Z', false],
    ])
    // One member: the weeks run into one shift.
    expect(shiftsBetween({ ...rota, members: ['a'] }, [], d('2026-03-03T00:00:00Z'), d('2026-03-20T00:00:00Z'))).toHaveLength(1)
  })
})

describe('policy', () => {
  it('raise, acknowledge deadline and first reminder climb; later reminders repeat the last step', () => {
    expect([stepFor('raised', null, 0, 3), stepFor('escalated', 'acknowledge', 0, 3), stepFor('reminded', null, 1, 3), stepFor('reminded', null, 4, 3)]).toEqual([0, 1, 2, 2])
    expect([stepFor('updated', null, 0, 3), stepFor('escalated', 'resolve', 0, 3), stepFor('acknowledged', null, 0, 3)]).toEqual([undefined, undefined, undefined])
  })

  it('quiet hours across midnight hold until their end; critical cannot have them', () => {
    const minor = DEFAULT_POLICIES.minor
    // 23:30 and 03:00 in Shanghai are held until 07:00 (23:00 UTC); 12:00 is not.
    expect(quietUntil(minor, new Date('2026-03-04T15:30:00Z'))).toEqual(new Date('2026-03-04T23:00:00Z'))
    expect(quietUntil(minor, new Date('2026-03-04T19:00:00Z'))).toEqual(new Date('2026-03-04T23:00:00Z'))
    expect(quietUntil(minor, new Date('2026-03-04T04:00:00Z'))).toBeUndefined()
    expect(quietUntil(DEFAULT_POLICIES.critical, new Date('2026-03-04T15:30:00Z'))).toBeUndefined()
    expect(() => parsePolicy('critical', { steps: [{ rota: 'crew' }], quietHours: { from: '22:00', to: '07:00' } })).toThrow(/never held back/)
  })
})

describe('messages', () => {
  const alert = { id: 7, severity: 'critical', title: '电梯困人（轿厢停在两层之间，乘客被困）', reason: null, ackDeadline: new Date('2026-03-04T02:05:00Z') } as Alert
  const link = 'https://hb.example.cn/n/3x.AbCdEfGhIjKl'
  /** 10:00 in Shanghai, before the 10:05 deadline. */
  const BEFORE = new Date('2026-03-04T02:00:00Z')

  it('the SMS form fits one segment and keeps the deadline and the link whole', () => {
    for (const place of ['梅陇一村', '上海市闵行区梅陇镇梅陇一村第三小区十二号楼东侧电梯厅']) {
      const zh = render('zh-CN', { alert, community: place, link, step: 1, timezone: 'Asia/Shanghai', now: BEFORE }).short
      expect(zh.length).toBeLessThanOrEqual(SMS_MAX)
      expect(zh).toMatch(/^【紧急】.*10:05前确认 https:\/\/hb\.example\.cn\/n\/3x\.AbCdEfGhIjKl$/)
      // English around Chinese names is UCS-2 too: the names give way, the deadline and link stay whole.
      const en = render('en', { alert, community: place, link, step: 2, timezone: 'Asia/Shanghai', now: BEFORE })
      expect(en.short).toMatch(/, ack by 10:05 https:\/\/hb\.example\.cn\/n\/3x\.AbCdEfGhIjKl$/)
      expect(en.subject).toMatch(/^\[ESCALATED\] \[CRITICAL\]/)
    }
  })

  describe('a table of real-length cases: every SMS names the device, keeps its deadline and link, and fits one segment after a 6-character signature', () => {
    // Links as a deployment prints them: its public host, /n/, an id in base 36, a 12-character signature.
    const LINKS = ['https://hb.example.cn/n/3x.AbCdEfGhIjKl', 'https://hb.sh.cn/n/1a2b3c.AbCdEfGhIjKl']
    const trapped: Alert = { ...alert, ruleId: 'elevator-entrapment', title: 'Passengers trapped' }
    const cover: Alert = { ...alert, severity: 'major', ruleId: 'manhole-cover-displaced', title: 'Manhole cover displaced' }
    const own: Alert = { ...alert, ruleId: 'own-rule', title: '地下车库集水井水位超过警戒线并持续上升' }
    type Case = { alert: Alert; community: string; spot: string; device: string }
    const CASES: Record<'zh-CN' | 'en', Case[]> = {
      'zh-CN': [
        { alert: trapped, community: '新庄花园', spot: '3号楼2单元', device: '3号楼2单元客梯' },
        { alert: trapped, community: '上海市长宁区仙霞新村街道虹古路第二居民小区', spot: '12号楼1单元', device: '12号楼1单元东侧客梯（2号梯）' },
        { alert: cover, community: '古美小区', spot: '7号楼', device: 'MH-0712 南门井盖' },
        { alert: own, community: '虹桥锦绣苑', spot: '', device: '地下车库B2层集水井液位计' },
      ],
      // An English reader's deployment names its places in Latin letters (GSM-7: 160 a segment).
      en: [
        { alert: trapped, community: 'Xinzhuang Garden', spot: 'Bldg 3 Unit 2', device: 'Elevator 3-2 (passenger)' },
        { alert: cover, community: 'Gumei Garden Phase II, Minhang District', spot: 'Bldg 7', device: 'Manhole cover MH-0712 by the south gate' },
      ],
    }
    // A carrier-registered Chinese signature makes a message UCS-2 (70); a Latin one keeps GSM-7.
    const SIGNATURES = { 'zh-CN': '【长宁房管】', en: 'CN-HB:' } as const
    const LATE = new Date('2026-03-04T02:17:30Z')
    for (const locale of ['zh-CN', 'en'] as const) {
      const signature = SIGNATURES[locale]
      for (const [i, c] of CASES[locale].entries()) {
        for (const link of LINKS) {
          it(`${locale} case ${i + 1}, a link of ${link.length}`, () => {
            for (const now of [BEFORE, LATE]) {
              const m = render(locale, { ...c, link, step: 1, timezone: 'Asia/Shanghai', now, signature })
              const sent = signature + m.short
              expect(sent.length, m.short).toBeLessThanOrEqual(segmentMax(sent))
              if (locale === 'zh-CN') expect(sent.length, m.short).toBeLessThanOrEqual(SMS_MAX)
              expect(m.short.endsWith(` ${link}`), m.short).toBe(true)
              // The device is named: whole, or a stem of at least five characters and the cut mark.
              const stems = Array.from({ length: c.device.length }, (_, n) => c.device.slice(0, n)).filter((stem) => stem.length >= 5)
              expect(m.short.includes(c.device) || stems.some((stem) => m.short.includes(`${stem}${locale === 'zh-CN' ? '…' : '.'}`)), m.short).toBe(true)
              // Past the deadline it says by how much, never a deadline that has passed.
              if (now === BEFORE) expect(m.short).toContain(locale === 'zh-CN' ? '10:05前确认' : 'ack by 10:05')
              else expect(m.short).toContain(locale === 'zh-CN' ? '已超时12分钟' : 'ack 12 min overdue')
            }
          })
        }
      }
    }

    it('reads as a person would write it, shortening the community first and the device last', () => {
      const first = CASES['zh-CN'][0] as Case
      const input = { ...first, link: LINKS[0] ?? '', step: 1, timezone: 'Asia/Shanghai', now: BEFORE }
      // The device's name says the building already: the spot is not repeated.
      expect(render('zh-CN', input).short).toBe('【紧急】新庄花园3号楼2单元客梯电梯困人，10:05前确认 https://hb.example.cn/n/3x.AbCdEfGhIjKl')
      // With the signature's six characters the community goes first, then the device's tail.
      expect(render('zh-CN', { ...input, signature: '【长宁房管】' }).short).toBe('【紧急】3号楼2单元…电梯困人，10:05前确认 https://hb.example.cn/n/3x.AbCdEfGhIjKl')
      const en = CASES.en[0] as Case
      expect(render('en', { ...input, ...en, signature: 'CN-HB:' }).short).toBe('[CRITICAL] Xinzhuang Garden Bldg 3 Unit 2 Elevator 3-2 (passenger): Passengers trapped, ack by 10:05 https://hb.example.cn/n/3x.AbCdEfGhIjKl')
    })

    it('a reminder after the deadline says how late it is in every form; the link is in none of the texts (each channel adds it once)', () => {
      const late = new Date('2026-03-04T02:43:00Z')
      const first = CASES['zh-CN'][0] as Case
      const zh = render('zh-CN', { ...first, link: LINKS[0] ?? '', step: 3, timezone: 'Asia/Shanghai', now: late, others: ['王强', '李伟'] })
      expect(zh.text.split('\n')).toEqual(['紧急告警：电梯困人', '地点：新庄花园3号楼2单元', '设备：3号楼2单元客梯', '确认已超时 38 分钟（时限 10:05）', '已通知：王强、李伟'])
      expect(zh.subject).toBe('【升级】【紧急】新庄花园3号楼2单元 电梯困人')
      const en = render('en', { ...first, link: LINKS[0] ?? '', step: 3, timezone: 'Asia/Shanghai', now: late, others: ['Wang Qiang'] })
      expect(en.text).toContain('Acknowledgement 38 min overdue (due 10:05)')
      expect(en.text).toContain('Also paged: Wang Qiang')
      expect(zh.text).not.toContain(LINKS[0])
      // An elevator's codes, for the call to the rescue service, in the longer forms only.
      const lift = render('zh-CN', { ...first, link: LINKS[0] ?? '', step: 1, timezone: 'Asia/Shanghai', now: BEFORE, elevator: { rescueCode: '31106', registrationCode: '31103101012017060001' } })
      expect(lift.text.split('\n').slice(3, 5)).toEqual(['救援识别码：31106', '电梯注册代码：31103101012017060001'])
      expect(lift.short).not.toContain('31106')
    })
  })

  it("titles a default rule's alert in the recipient's language, an operator's own rule as raised", () => {
    const trapped: Alert = { ...alert, ruleId: 'elevator-entrapment', title: 'Passengers trapped' }
    expect(render('zh-CN', { alert: trapped, community: '梅陇一村', link, step: 1, timezone: 'Asia/Shanghai', now: BEFORE }).text).toMatch(/^紧急告警：电梯困人\n/)
    expect(render('en', { alert: trapped, community: 'Meilong 1', link, step: 1, timezone: 'Asia/Shanghai', now: BEFORE }).text).toMatch(/^CRITICAL alert: Passengers trapped\n/)
    const own: Alert = { ...alert, ruleId: 'pump-room-door', title: 'Pump room door open' }
    expect(render('zh-CN', { alert: own, community: '梅陇一村', link, step: 1, timezone: 'Asia/Shanghai', now: BEFORE }).params.what).toBe('Pump room door open')
    // The demo district's names in English for an English recipient; in Chinese as stored.
    const demo = { alert: trapped, community: '莘庄花园', device: '3号电梯', link, step: 1, timezone: 'Asia/Shanghai', now: BEFORE }
    expect(render('en', demo).short).toContain('Xinzhuang Garden Elevator 3: Passengers trapped')
    expect(render('zh-CN', demo).short).toContain('莘庄花园3号电梯电梯困人')
    // A resident's report: its frame in the recipient's language around the resident's words, stored as data or (older rows) as English.
    const report: Alert = { ...alert, source: 'resident', ruleId: 'resident:hazard:1', title: 'Resident report: 井盖缺失', titleDetail: { key: 'resident.report', said: '井盖缺失' } }
    for (const a of [report, { ...report, titleDetail: null }]) {
      expect(render('zh-CN', { alert: a, community: '梅陇一村', link, step: 1, timezone: 'Asia/Shanghai', now: BEFORE }).params.what).toBe('居民报告：井盖缺失')
      expect(render('en', { alert: a, community: 'Meilong 1', link, step: 1, timezone: 'Asia/Shanghai', now: BEFORE }).params.what).toBe('Resident report: 井盖缺失')
    }
  })

  it("states the reason in the recipient's language when the rules engine sent it as data, the stored text otherwise", () => {
    const forecast: Alert = {
      ...alert,
      ruleId: 'fire-tank-reserve-forecast',
      reason: 'water_level_m < 1.5 predicted at 2026-03-04T03:00:00.000Z, in 55 min; trend -0.3 per hour over 10m',
      reasonDetail: { key: 'forecast.predicted', metric: 'water_level_m', op: '<', limit: 1.5, slopePerHour: -0.3, windowMs: 600_000, crossing: '2026-03-04T03:00:00.000Z', leadMs: 55 * 60_000 },
    }
    const text = (locale: 'zh-CN' | 'en', a: Alert) => render(locale, { alert: a, community: '梅陇一村', link, step: 1, timezone: 'Asia/Shanghai', now: BEFORE }).text.split('\n')
    // The predicted time on the recipient's clock (11:00 in Shanghai).
    expect(text('zh-CN', forecast)[2]).toBe('原因：预计 3月4日 11:00，约 55 分钟后出现 水位 < 1.5；趋势每小时 -0.3（按 10 分钟数据拟合）')
    expect(text('en', forecast)[2]).toBe(`Reason: ${forecast.reason ?? ''}`)
    // An older rules process or a flow sent only the text: it stands in every language.
    expect(text('zh-CN', { ...forecast, reasonDetail: null })[2]).toBe(`原因：${forecast.reason ?? ''}`)
  })

  it('masks phone numbers, not other addresses', () => {
    expect(maskAddress('13812341234')).toBe('138****1234')
    expect(maskAddress('+86 138 1234 1234')).toBe('138****1234')
    expect(maskAddress('+4915112345678')).toBe('+491****5678')
    expect(maskAddress('ops@example.com')).toBe('ops@example.com')
  })
})

describe('secrets and links', () => {
  it('sealed secrets open only with the key and for the row they were sealed for', () => {
    const key = Buffer.alloc(32, 7)
    const sealed = seal(key, '{"k":"v"}', 'channel-1')
    expect(sealed).not.toContain('"k"')
    expect(unseal(key, sealed, 'channel-1')).toBe('{"k":"v"}')
    expect(() => unseal(key, sealed, 'channel-2')).toThrow()
    expect(() => unseal(Buffer.alloc(32, 8), sealed, 'channel-1')).toThrow()
  })

  it('generates a key file readable by its owner only, and reuses it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hb-key-'))
    const first = await loadSecretKey(undefined, dir)
    expect(first).toHaveLength(32)
    expect((await stat(path.join(dir, 'notify-secret.key'))).mode & 0o777).toBe(0o600)
    expect(await loadSecretKey(undefined, dir)).toEqual(first)
    await expect(loadSecretKey('c2hvcnQ=', dir)).rejects.toThrow(/NOTIFY_SECRET_KEY/)
  })

  it('a link names one delivery and cannot be forged', () => {
    const signer = new LinkSigner(Buffer.alloc(32, 1), 'https://hb.example/')
    const token = signer.token(12345)
    expect(signer.url(12345)).toBe(`https://hb.example/n/${token}`)
    expect(signer.verify(token)).toBe(12345)
    expect(signer.verify(token.replace(/^[0-9a-z]+/, (12346).toString(36)))).toBeUndefined()
    expect(new LinkSigner(Buffer.alloc(32, 2), 'x').verify(token)).toBeUndefined()
  })
})
