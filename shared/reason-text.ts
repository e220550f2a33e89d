// An alert's reason in every language the people on the other end read: the one renderer of the
// structured reason (core/reason-detail.ts). The evaluators derive their English `reason` text
// from it — so that text, which the API stores and older readers show, is exactly this module's
// English — the console renders it in the UI language and notify/render.ts in the recipient's.
// Like catalogue-text.ts it imports only pure modules (durations, the metric labels) and types, so
// Vite bundles it for the browser as it is.
//
// English keeps the metric id and the durations as rules are written ("cover_tilt_deg 36 > 30 for
// 1m"); Chinese names the metric as the console does (井盖倾角) and spells durations out ("2 分钟").
// Operators stay symbols in both. Numbers carry at most 4 significant digits, without float noise.
import { UNIT_MS, formatDuration } from './duration.ts'
import { isBooleanMetric, metricLabel } from './metric-catalogue.ts'
import type { ReasonDetail, ReasonKey, ReasonOf } from '../core/reason-detail.ts'
import type { TextLang } from './catalogue-text.ts'

export type { ReasonDetail, ReasonKey }

export interface ReasonOptions {
  /** Chinese forecast texts give the predicted time in this zone (default: the runtime's). */
  timeZone?: string | undefined
}

/** A number for a reason text: no float noise, no trailing zeros. */
export function fmt(x: number): string {
  return String(Number(x.toPrecision(4)))
}

const ZH_UNITS = [
  ['d', '天'],
  ['h', '小时'],
  ['m', '分钟'],
  ['s', '秒'],
] as const

/** Milliseconds in the largest unit that states them exactly, in Chinese: "2 分钟", "90 秒". */
export function durationZh(ms: number): string {
  for (const [unit, word] of ZH_UNITS) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]} ${word}`
  }
  return ms === 0 ? '0 秒' : `${ms} 毫秒`
}

/** The words of one language: how it names metrics, durations and times. */
interface Words {
  metric(id: string): string
  duration(ms: number): string
  time(iso: string): string
}

const EN: Words = { metric: (id) => id, duration: formatDuration, time: (iso) => new Date(iso).toISOString() }

// Building an Intl formatter costs far more than using one (the console renders a reason per board
// row while filtering): one per time zone, kept; there are only a few, and the map is capped.
const TIME_FORMATS = new Map<string, Intl.DateTimeFormat>()

function zhTime(iso: string, timeZone: string | undefined): string {
  let f = TIME_FORMATS.get(timeZone ?? '')
  if (f === undefined) {
    if (TIME_FORMATS.size >= 16) TIME_FORMATS.clear()
    f = new Intl.DateTimeFormat('zh-CN', { timeZone, month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    TIME_FORMATS.set(timeZone ?? '', f)
  }
  return f.format(new Date(iso))
}

const zhWords = (opts: ReasonOptions): Words => ({ metric: (id) => metricLabel(id, 'zh-CN') ?? id, duration: durationZh, time: (iso) => zhTime(iso, opts.timeZone) })

type Render<K extends ReasonKey> = (d: ReasonOf<K>, w: Words) => string
type Table = { [K in ReasonKey]: Render<K> }
type Forecast = ReasonOf<'forecast.crossed' | 'forecast.none' | 'forecast.predicted' | 'forecast.receded'>

// ---- English: exactly the texts the evaluators have always written --------------------------

const forWhile = (ms: number, w: Words) => (ms > 0 ? ` for ${w.duration(ms)}` : '')

function rateEn(d: ReasonOf<'rate.raise' | 'rate.clear'>, w: Words): string {
  const limit = d.rate >= 0 ? `rise limit ${fmt(d.rise ?? Infinity)}` : `fall limit ${fmt(d.fall ?? Infinity)}`
  return `${d.metric} ${d.rate >= 0 ? 'rising' : 'falling'} ${fmt(Math.abs(d.rate))} per ${w.duration(d.perMs)} (${limit}, over ${w.duration(d.windowMs)})`
}

function countWhatEn(d: ReasonOf<'count.raise' | 'count.clear'>): string {
  const filter = d.filter === null ? '' : ` ${d.filter.op} ${fmt(d.filter.value)}`
  return d.mode === 'sum' ? `sum of ${d.metric}${filter ? ` readings${filter}` : ''}` : `${d.metric}${filter} readings`
}

const trendEn = (d: Forecast, w: Words) => `trend ${fmt(d.slopePerHour)} per hour over ${w.duration(d.windowMs)}`
const targetEn = (d: Forecast) => `${d.metric} ${d.op} ${fmt(d.limit)}`
const whenEn = (d: ReasonOf<'forecast.predicted' | 'forecast.receded'>, w: Words) => `${w.time(d.crossing)}, in ${Math.round(d.leadMs / 60_000)} min`

const EN_TEXT: Table = {
  'threshold.raise': (d, w) => `${d.metric} ${fmt(d.observed)} ${d.op} ${fmt(d.limit)}${forWhile(d.forMs, w)}`,
  'threshold.held': (d, w) => `condition${forWhile(d.forMs, w)}`,
  'threshold.clear': (d, w) => `back to ${d.conditions.map((c) => `${c.metric} ${c.op} ${fmt(c.limit)}`).join(' and ')}${forWhile(d.forMs, w)}`,
  'rate.raise': rateEn,
  'rate.clear': (d, w) => `${rateEn(d, w)}: back within limits`,
  'count.raise': (d, w) => `${countWhatEn(d)}: ${fmt(d.total)} within ${w.duration(d.windowMs)} (limit ${fmt(d.limit)})`,
  'count.clear': (d, w) => `${countWhatEn(d)}: ${fmt(d.total)} within ${w.duration(d.windowMs)}, below ${fmt(d.limit)}`,
  'nodata.silent': (d, w) => `no data for ${w.duration(d.afterMs)}`,
  'nodata.offline': (d, w) => `device reported offline (Last Will)${d.graceMs > 0 ? ` and did not return within ${w.duration(d.graceMs)}` : ''}`,
  'nodata.data': () => 'data received again',
  'nodata.online': () => 'device back online',
  'nodata.heard': () => 'device heard from',
  'forecast.crossed': (d, w) => `${targetEn(d)} already (${fmt(d.observed)}); ${trendEn(d, w)}`,
  'forecast.none': (d, w) => `no crossing of ${targetEn(d)} ahead: ${trendEn(d, w)}`,
  'forecast.predicted': (d, w) => `${targetEn(d)} predicted at ${whenEn(d, w)}; ${trendEn(d, w)}`,
  'forecast.receded': (d, w) => `${targetEn(d)} no longer predicted within ${w.duration(d.horizonMs)} (${whenEn(d, w)}); ${trendEn(d, w)}`,
  'flapping.stopped': (d, w) => `stopped flapping: condition clear for ${w.duration(d.windowMs)}`,
  'gateway.back-silent': () => 'still silent after its gateway came back',
  'rule.removed': () => 'rule or device removed or disabled',
}

// ---- 简体中文 -------------------------------------------------------------------------------

const lasting = (ms: number, w: Words) => (ms > 0 ? `，持续 ${w.duration(ms)}` : '')

function rateZh(d: ReasonOf<'rate.raise' | 'rate.clear'>, w: Words): string {
  const rising = d.rate >= 0
  const limit = rising ? d.rise : d.fall
  const limitText = limit === null ? `无${rising ? '上涨' : '下降'}限值` : `${rising ? '上涨' : '下降'}限值 ${fmt(limit)}`
  return `${w.metric(d.metric)} 每 ${w.duration(d.perMs)}${rising ? '上涨' : '下降'} ${fmt(Math.abs(d.rate))}（${limitText}，按 ${w.duration(d.windowMs)}数据计算）`
}

function countWhatZh(d: ReasonOf<'count.raise' | 'count.clear'>, w: Words): string {
  const which = d.filter === null ? `${w.metric(d.metric)} ` : `${w.metric(d.metric)} ${d.filter.op} ${fmt(d.filter.value)} 的`
  return d.mode === 'sum' ? `${which}读数合计` : `${which}读数条数`
}

const trendZh = (d: Forecast, w: Words) => `趋势每小时 ${fmt(d.slopePerHour)}（按 ${w.duration(d.windowMs)}数据拟合）`
const targetZh = (d: Forecast, w: Words) => `${w.metric(d.metric)} ${d.op} ${fmt(d.limit)}`
const whenZh = (d: ReasonOf<'forecast.predicted' | 'forecast.receded'>, w: Words) => `${w.time(d.crossing)}，约 ${Math.round(d.leadMs / 60_000)} 分钟后`

const OPS: Record<string, (a: number, b: number) => boolean> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
}

/**
 * A yes/no metric's condition in words — "检测到困人" rather than "困人 1 >= 1" (issue 20: people
 * read the reason in an SMS) — or null when the metric is a measurement or the condition holds for
 * both or neither of 0 and 1.
 */
function yesNoZh(metric: string, op: string, limit: number, w: Words, raise: boolean): string | null {
  const holds = OPS[op]
  if (!holds || !isBooleanMetric(metric)) return null
  const [at1, at0] = [holds(1, limit), holds(0, limit)]
  if (at1 === at0) return null
  if (raise) return at1 ? `检测到${w.metric(metric)}` : `${w.metric(metric)}：否`
  return `${w.metric(metric)}：${at1 ? '是' : '否'}`
}

const ZH_TEXT: Table = {
  'threshold.raise': (d, w) => `${yesNoZh(d.metric, d.op, d.limit, w, true) ?? `${w.metric(d.metric)} ${fmt(d.observed)} ${d.op} ${fmt(d.limit)}`}${lasting(d.forMs, w)}`,
  'threshold.held': (d, w) => `条件成立${lasting(d.forMs, w)}`,
  'threshold.clear': (d, w) => `已恢复到 ${d.conditions.map((c) => yesNoZh(c.metric, c.op, c.limit, w, false) ?? `${w.metric(c.metric)} ${c.op} ${fmt(c.limit)}`).join(' 且 ')}${lasting(d.forMs, w)}`,
  'rate.raise': rateZh,
  'rate.clear': (d, w) => `${rateZh(d, w)}：已回到限值内`,
  'count.raise': (d, w) => `${countWhatZh(d, w)}：${w.duration(d.windowMs)}内 ${fmt(d.total)}（限值 ${fmt(d.limit)}）`,
  'count.clear': (d, w) => `${countWhatZh(d, w)}：${w.duration(d.windowMs)}内 ${fmt(d.total)}，低于 ${fmt(d.limit)}`,
  'nodata.silent': (d, w) => `${w.duration(d.afterMs)}无数据`,
  'nodata.offline': (d, w) => `设备报告离线（遗嘱消息）${d.graceMs > 0 ? `，${w.duration(d.graceMs)}内未恢复` : ''}`,
  'nodata.data': () => '重新收到数据',
  'nodata.online': () => '设备重新上线',
  'nodata.heard': () => '重新收到设备消息',
  'forecast.crossed': (d, w) => `${targetZh(d, w)} 已成立（当前 ${fmt(d.observed)}）；${trendZh(d, w)}`,
  'forecast.none': (d, w) => `预计不会出现 ${targetZh(d, w)}：${trendZh(d, w)}`,
  'forecast.predicted': (d, w) => `预计 ${whenZh(d, w)}出现 ${targetZh(d, w)}；${trendZh(d, w)}`,
  'forecast.receded': (d, w) => `${w.duration(d.horizonMs)}内不再预计出现 ${targetZh(d, w)}（预计 ${whenZh(d, w)}）；${trendZh(d, w)}`,
  'flapping.stopped': (d, w) => `停止频繁跳变：条件已连续 ${w.duration(d.windowMs)}未成立`,
  'gateway.back-silent': () => '所属网关已恢复，设备仍无数据',
  'rule.removed': () => '规则或设备已删除或停用',
}

const TEXTS: Record<TextLang, Table> = { en: EN_TEXT, 'zh-CN': ZH_TEXT }

/** The reason in `lang`. English is the text the evaluators report as `reason`. */
export function renderReason(detail: ReasonDetail, lang: TextLang, opts: ReasonOptions = {}): string {
  const render = TEXTS[lang][detail.key] as Render<ReasonKey>
  return render(detail, lang === 'en' ? EN : zhWords(opts))
}

/** Whether `x` names a reason this module can render (stored event data is read as unknown). */
export function isReasonDetail(x: unknown): x is ReasonDetail {
  return typeof x === 'object' && x !== null && typeof (x as { key?: unknown }).key === 'string' && Object.hasOwn(EN_TEXT, (x as { key: string }).key)
}

/**
 * What a reader shows: the reason rendered in `lang` when the alert or event carries one, else the
 * stored text (older rules processes, people's and flows' alerts).
 */
export function reasonIn(lang: TextLang, detail: unknown, stored: string | null, opts: ReasonOptions = {}): string | null {
  if (!isReasonDetail(detail)) return stored
  try {
    return renderReason(detail, lang, opts)
  } catch {
    // A detail with the right key but missing fields (hand-written event data): the text stands.
    return stored
  }
}

/** The English text and the detail it came from: what an outcome and a report carry. */
export function because(detail: ReasonDetail): { reason: string; reasonDetail: ReasonDetail } {
  return { reason: renderReason(detail, 'en'), reasonDetail: detail }
}
