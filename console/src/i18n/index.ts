// Language: from the browser on first visit, then the user's remembered choice. Strings, numbers,
// dates, durations and metric units all go through here so nothing visible stays in one language.
import { ruleText, storedReasonIn, type TextLang } from '../../../shared/catalogue-text.ts'
import { nameIn } from '../../../shared/demo-names.ts'
import { titleIn, type TitledAlert } from '../../../shared/alert-title.ts'
import { reasonIn } from '../../../shared/reason-text.ts'
import { isSystemNote, systemNoteText } from '../../../shared/system-note.ts'
import { store } from '../lib/store.ts'
import { en, type Key } from './en.ts'
import { zhCN } from './zh-CN.ts'

/** The console's languages are the catalogue text's: a rule title cannot be missing in one. */
export type Lang = TextLang
export const LANGS: Record<Lang, Record<Key, string>> = { en, 'zh-CN': zhCN }
const LANG_KEY = 'hb-lang'

function initialLang(): Lang {
  // Also imported by unit tests under Node, where neither exists.
  const { localStorage: storage, navigator: nav } = globalThis as { localStorage?: Storage; navigator?: Navigator }
  const saved = storage?.getItem(LANG_KEY)
  if (saved === 'en' || saved === 'zh-CN') return saved
  const wanted = nav?.languages ?? []
  return wanted.some((l) => l.toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en'
}

export const lang = store<Lang>(initialLang())

export function setLang(l: Lang): void {
  localStorage.setItem(LANG_KEY, l)
  document.documentElement.lang = l
  lang.set(l)
}

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const text = LANGS[lang.get()][key]
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m))
}

/** A key built at run time (metric, rule, unit); undefined when the catalogue has none. */
export function tMaybe(key: string): string | undefined {
  const table: Record<string, string> = LANGS[lang.get()]
  return Object.hasOwn(table, key) ? table[key] : undefined
}

// Building an Intl formatter costs far more than formatting with one, and a board row needs three:
// one per language and style, kept. The styles are the few written below, so the map stays small.
const FORMATS = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>()

function numberFormat(opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n ${lang.get()} ${JSON.stringify(opts)}`
  let f = FORMATS.get(key)
  if (!(f instanceof Intl.NumberFormat)) FORMATS.set(key, (f = new Intl.NumberFormat(lang.get(), opts)))
  return f
}

function dateFormat(opts: Intl.DateTimeFormatOptions = { dateStyle: 'short', timeStyle: 'short' }): Intl.DateTimeFormat {
  const key = `d ${lang.get()} ${JSON.stringify(opts)}`
  let f = FORMATS.get(key)
  if (!(f instanceof Intl.DateTimeFormat)) FORMATS.set(key, (f = new Intl.DateTimeFormat(lang.get(), opts)))
  return f
}

const DAY_S = 86_400

/**
 * The tick labels of a chart's time axis (uPlot's seconds) in the current language: the time of
 * day when the ticks are less than a day apart, with the date under the first tick of each day;
 * the date alone otherwise. uPlot's own labels are English whatever the language.
 */
export function timeTicks(splits: readonly number[], incrementS: number): string[] {
  if (incrementS >= DAY_S) return splits.map((s) => monthDay(s * 1000))
  const time = dateFormat({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
  let shown = ''
  return splits.map((s) => {
    const date = monthDay(s * 1000)
    const label = date === shown ? time.format(s * 1000) : `${time.format(s * 1000)}\n${date}`
    shown = date
    return label
  })
}

/** Month and day ("11/29"): a chart's tick, short enough for six of them on a phone. */
export function monthDay(ms: number): string {
  return dateFormat({ month: 'numeric', day: 'numeric' }).format(ms)
}

/** The date alone ("2026/11/29", "11/29/26"). */
export function dateOnly(iso: string | number | Date): string {
  return dateFormat({ dateStyle: 'short' }).format(new Date(iso))
}

export function num(v: number, digits = 2): string {
  return numberFormat({ maximumFractionDigits: digits }).format(v)
}

export function dateTime(iso: string | number | Date): string {
  return dateFormat().format(new Date(iso))
}

/** To the second, for a record where steps seconds apart must not read alike (an alert's history). */
export function dateTimeSeconds(iso: string | number | Date): string {
  return dateFormat({ dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso))
}

/** The date with its weekday ("Tuesday, December 8, 2026", "2026年12月8日星期二"): the wall screen's clock. */
export function fullDate(iso: string | number | Date): string {
  return dateFormat({ dateStyle: 'full' }).format(new Date(iso))
}

/** Time of day to the second ("20:15:42", "8:15:42 PM"). */
export function timeSeconds(iso: string | number | Date): string {
  return dateFormat({ timeStyle: 'medium' }).format(new Date(iso))
}

/** A span to the second: "4 min 12 s", "4分12秒", "1 h 0 min 5 s" (hours past a day stay hours). */
export function elapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  if (h > 0) return t('elapsed.hms', { h, m, s })
  return m > 0 ? t('elapsed.ms', { m, s }) : t('elapsed.s', { s })
}

/** Who did it: a person's name as stored, a service (the rules engine, the system's timers) in the current language. */
export function actorName(actor: string): string {
  return tMaybe(`actor.${actor}`) ?? actor
}

/** "3 min", "2 h 5 min", "4 d" in the current language. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(Math.abs(ms) / 1000))
  const unit = (n: number, u: 'second' | 'minute' | 'hour' | 'day') => numberFormat({ style: 'unit', unit: u, unitDisplay: 'short' }).format(n)
  if (s < 60) return unit(s, 'second')
  if (s < 3600) return unit(Math.floor(s / 60), 'minute')
  if (s < 86_400) return `${unit(Math.floor(s / 3600), 'hour')} ${unit(Math.floor((s % 3600) / 60), 'minute')}`
  return unit(Math.floor(s / 86_400), 'day')
}

/** A company's, community's or device's name for the reader: the demo's in English for English, others as stored. */
export function localName(name: string): string {
  return nameIn(lang.get(), name)
}

export function metricName(metric: string): string {
  return tMaybe(`metric.${metric}`) ?? metric
}

export function unitLabel(unit: string): string {
  return tMaybe(`unit.${unit}`) ?? unit
}

/** Alert titles from the rule catalogue's text and residents' reports, in the current language (shared/alert-title.ts). */
export function alertTitle(a: TitledAlert): string {
  return titleIn(lang.get(), a)
}

/** Why the alert was raised, in the current language when the rules engine sent it as data. */
export function alertReason(a: { ruleId: string; reason: string | null; reasonDetail?: unknown }): string | null {
  return reasonIn(lang.get(), a.reasonDetail, storedReasonIn(a.ruleId, a.reason, lang.get()))
}

/** A history entry's note; a rule's raise or clear (data.reasonDetail) and the service's own notes (data.says) read in the current language. */
export function eventNote(e: { type?: string; actor?: string; note: string | null; data?: Record<string, unknown> | null | undefined }): string | null {
  // A hand-over says to whom (and the note given with it).
  if (e.type === 'published' && e.data?.public === false) return t('event.unpublishedNote')
  if (e.type === 'assigned' && typeof e.data?.to === 'string') {
    const what = e.data.to === e.actor ? t('event.claimed') : t('event.assignedTo', { name: e.data.to })
    return [what, e.note].filter(Boolean).join(lang.get() === 'zh-CN' ? '：' : ': ')
  }
  if (isSystemNote(e.data?.says)) return systemNoteText(e.data.says, lang.get(), t)
  return reasonIn(lang.get(), e.data?.reasonDetail, e.note)
}

/** Why a default rule's alert matters, in the current language; undefined for other alerts. */
export function alertWhy(a: { ruleId: string }): string | undefined {
  return ruleText(a.ruleId, lang.get())?.why
}
