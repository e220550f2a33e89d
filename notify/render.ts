// Messages in the recipient's language, that a person can act on without opening anything:
// severity, where (community, building/unit/floor, the device), what happened in words, the
// acknowledge deadline — or how long it is overdue, on an escalation or a reminder — who else was
// paged, and one link.
//
// The SMS form fits one segment: 70 UCS-2 code units as the Chinese carriers count them, less the
// signature the gateway adds (【签名】, counted). What is shortened when it must, in this order:
// the community's name, then building/unit/floor, then the device's name, then the title (each
// keeps a stem where it can); never the severity, the deadline or the link. A default rule's title
// comes from the catalogue's text (shared/catalogue-text.ts) in the recipient's language, and so
// does the reason when the rules engine sent it as data (shared/reason-text.ts).
import type { Alert } from '../core/repos/alerts.ts'
import { titleIn } from '../shared/alert-title.ts'
import { nameIn } from '../shared/demo-names.ts'
import { storedReasonIn } from '../shared/catalogue-text.ts'
import { reasonIn } from '../shared/reason-text.ts'
import type { Locale, Message } from './channel.ts'

export const SMS_MAX = 70

const SEVERITY: Record<Locale, Record<Alert['severity'], string>> = {
  'zh-CN': { critical: '紧急', major: '重要', minor: '一般', warning: '提示' },
  en: { critical: 'CRITICAL', major: 'MAJOR', minor: 'MINOR', warning: 'WARNING' },
}

export interface RenderInput {
  alert: Alert
  /** The community's name (or id). */
  community: string
  /** Within the community: building, unit, floor, a position text (shared/place.ts), or ''. */
  spot?: string
  /** The device's name, when the alert is a device's. */
  device?: string
  /** An elevator's codes (救援识别码, 电梯注册代码) for the rescue call, in the longer forms. */
  elevator?: { rescueCode: string | null; registrationCode: string | null }
  link: string
  /** Which step of the escalation this page is (1 = first responders). */
  step: number
  /** For the deadline's wall-clock time. */
  timezone: string
  /** When the message is sent: past the acknowledge deadline it says how long it is overdue. */
  now: Date
  /** Who else was paged for this alert (display names), for the longer forms. */
  others?: readonly string[]
  /** What the SMS gateway puts before the text (its 【签名】): counted against the segment. */
  signature?: string
}

function clock(at: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at)
}

/**
 * At most `max` UCS-2 code units (how a segment's characters are counted), ending in `mark` when
 * cut: "…" in Chinese; "." in English, where "…" would leave GSM-7 and cost the message 90 characters.
 */
function cut(s: string, max: number, mark: string): string {
  if (s.length <= max) return s
  return max <= 1 ? '' : s.slice(0, max - 1) + mark
}

/** A part of the SMS that may be shortened: first down to `keep`, later down to `floor`. */
export interface Part {
  text: string
  keep: number
  floor: number
}

/**
 * Shortens `parts` until `compose` fits `max`: in the order given, each down to its `keep`
 * (a stem ending in "…"), then again in that order down to its `floor`. What cannot shrink more
 * stays: the severity, the deadline and the link are never in `parts`.
 */
export function fit(compose: (parts: string[]) => string, parts: Part[], max: (text: string) => number, mark: string): string {
  const texts = parts.map((p) => p.text)
  for (const limit of [(p: Part) => p.keep, (p: Part) => p.floor]) {
    for (let i = 0; i < parts.length; i++) {
      const over = compose(texts).length - max(compose(texts))
      if (over <= 0) return compose(texts)
      const now = texts[i] ?? ''
      const target = Math.max(Math.min(limit(parts[i] as Part), now.length), now.length - over)
      if (target < now.length) texts[i] = cut(now, target, mark)
    }
  }
  return compose(texts)
}

// GSM 03.38: the basic set counts one septet, the extension table two; anything else (Chinese)
// makes the whole message UCS-2, 70 code units a segment instead of 160 septets.
const GSM_BASIC = new Set('@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà')
const GSM_EXTENSION = new Set('^{}\\[~]|€')

/** How long one segment may be for `text` (signature included), in the units `.length` counts. */
export function segmentMax(text: string): number {
  let septets = 0
  for (const ch of text) {
    if (GSM_BASIC.has(ch)) septets++
    else if (GSM_EXTENSION.has(ch)) septets += 2
    else return SMS_MAX
  }
  // All GSM: 160 septets, expressed in characters (an extension character takes two).
  return 160 - (septets - text.length)
}

/** Whole minutes past `deadline` at `now`, or undefined before it. */
function overdueMinutes(deadline: Date, now: Date): number | undefined {
  const ms = now.getTime() - deadline.getTime()
  return ms > 0 ? Math.max(1, Math.floor(ms / 60_000)) : undefined
}

const WORDS = {
  'zh-CN': {
    due: (at: string) => `${at}前确认`,
    overdue: (min: number) => `已超时${min}分钟`,
    dueLine: (at: string) => `请于 ${at} 前确认`,
    overdueLine: (min: number, at: string) => `确认已超时 ${min} 分钟（时限 ${at}）`,
    alert: (sev: string, what: string) => `${sev}告警：${what}`,
    place: '地点',
    device: '设备',
    reason: '原因',
    others: '已通知',
    rescueCode: '救援识别码',
    registrationCode: '电梯注册代码',
    open: '打开',
    escalated: '【升级】',
    sep: '、',
  },
  en: {
    due: (at: string) => `ack by ${at}`,
    overdue: (min: number) => `ack ${min} min overdue`,
    dueLine: (at: string) => `Acknowledge by ${at}`,
    overdueLine: (min: number, at: string) => `Acknowledgement ${min} min overdue (due ${at})`,
    alert: (sev: string, what: string) => `${sev} alert: ${what}`,
    place: 'Place',
    device: 'Device',
    reason: 'Reason',
    others: 'Also paged',
    rescueCode: 'Rescue code',
    registrationCode: 'Registration code',
    open: 'Open',
    escalated: '[ESCALATED] ',
    sep: ', ',
  },
} as const

export function render(locale: Locale, input: RenderInput): Message {
  // The demo district's names in the recipient's language (shared/demo-names.ts); an office's as written.
  const r = { ...input, community: nameIn(locale, input.community), ...(input.device ? { device: nameIn(locale, input.device) } : {}) }
  const { alert, link } = r
  const w = WORDS[locale]
  const sev = SEVERITY[locale][alert.severity]
  const at = clock(alert.ackDeadline, r.timezone)
  const late = overdueMinutes(alert.ackDeadline, r.now)
  const deadline = late === undefined ? w.due(at) : w.overdue(late)
  // A default rule's alert and a resident's report are titled in the recipient's language; an operator's own rule keeps its title.
  const title = titleIn(locale, alert)
  const reason = reasonIn(locale, alert.reasonDetail, storedReasonIn(alert.ruleId, alert.reason, locale), { timeZone: r.timezone })
  const device = r.device ?? ''
  // The device's name often says the building already ("3号楼2单元客梯"): then the spot is not repeated.
  const spot = r.spot && !device.includes(r.spot) ? r.spot : ''
  const where = [r.community, r.spot ?? ''].filter(Boolean).join(locale === 'zh-CN' ? '' : ' ')
  const signature = r.signature ?? ''
  // Shortened first → last: the community (to nothing), the spot (to nothing), the device (to a
  // six-character stem), the title (to four). The device is how the crew tells which one it is.
  const parts: Part[] = [
    { text: r.community, keep: 4, floor: 0 },
    // In Chinese the spaces between building, unit and floor cost characters and say nothing.
    { text: locale === 'zh-CN' ? spot.replace(/\s+/g, '') : spot, keep: 4, floor: 0 },
    { text: device, keep: 8, floor: 6 },
    { text: title, keep: 4, floor: 4 },
  ]
  // The gateway's signature is counted; a Chinese one makes every message UCS-2.
  const max = (text: string) => segmentMax(signature + text) - signature.length
  const short =
    locale === 'zh-CN'
      ? fit(([c, s, d, t]) => `【${sev}】${c ?? ''}${s ?? ''}${d ?? ''}${t ?? ''}，${deadline} ${link}`, parts, max, '…')
      : fit(([c, s, d, t]) => `[${sev}] ${[c, s, d].filter(Boolean).join(' ')}: ${t ?? ''}, ${deadline} ${link}`, parts, max, '.')
  const subject = `${r.step > 1 ? w.escalated : ''}${locale === 'zh-CN' ? `【${sev}】${where} ${title}` : `[${sev}] ${where}: ${title}`}`
  const others = (r.others ?? []).join(w.sep)
  const text = [
    w.alert(sev, title),
    `${w.place}${locale === 'zh-CN' ? '：' : ': '}${where}`,
    device ? `${w.device}${locale === 'zh-CN' ? '：' : ': '}${device}` : '',
    r.elevator?.rescueCode ? `${w.rescueCode}${locale === 'zh-CN' ? '：' : ': '}${r.elevator.rescueCode}` : '',
    r.elevator?.registrationCode ? `${w.registrationCode}${locale === 'zh-CN' ? '：' : ': '}${r.elevator.registrationCode}` : '',
    reason ? `${w.reason}${locale === 'zh-CN' ? '：' : ': '}${reason}` : '',
    late === undefined ? w.dueLine(at) : w.overdueLine(late, at),
    others ? `${w.others}${locale === 'zh-CN' ? '：' : ': '}${others}` : '',
  ]
    .filter(Boolean)
    .join('\n')
  return {
    locale,
    alertId: String(alert.id),
    severity: alert.severity,
    subject,
    text,
    short,
    link,
    // `deadline` stays the wall-clock time a registered template puts in its own words; `due` is ours.
    params: { severity: sev, place: where, device, what: title, deadline: at, due: deadline, link },
  }
}
