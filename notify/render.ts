// Messages in the recipient's language. The SMS form carries severity, place, what, the
// acknowledge deadline and the link in at most 70 characters — one segment in Chinese (UCS-2,
// 70 code units, as the carriers count it) — shortening the place and then the title when it
// must, never the deadline or the link. A default rule's title comes from the catalogue's text
// (shared/catalogue-text.ts) in the recipient's language, and so does the reason when the rules
// engine sent it as data (shared/reason-text.ts); otherwise the stored text stands.
import type { Alert } from '../core/repos/alerts.ts'
import { ruleText } from '../shared/catalogue-text.ts'
import { reasonIn } from '../shared/reason-text.ts'
import type { Locale, Message } from './channel.ts'

export const SMS_MAX = 70

const SEVERITY: Record<Locale, Record<Alert['severity'], string>> = {
  'zh-CN': { critical: '紧急', major: '重要', minor: '一般', warning: '提示' },
  en: { critical: 'CRITICAL', major: 'MAJOR', minor: 'MINOR', warning: 'WARNING' },
}

export interface RenderInput {
  alert: Alert
  place: string
  link: string
  /** Which step of the escalation this page is (1 = first responders). */
  step: number
  /** For the deadline's wall-clock time. */
  timezone: string
}

function clock(at: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at)
}

/** UCS-2 code units, which is how a segment's 70 characters are counted. */
function cut(s: string, max: number): string {
  if (s.length <= max) return s
  return max <= 0 ? '' : s.slice(0, max - 1) + '…'
}

/**
 * Fits `place` and `what` into what the fixed parts leave: the title keeps at least half of the
 * room, the place gets the rest. With no room at all (a very long link base URL) both go.
 */
function fit(parts: (place: string, what: string) => string, place: string, what: string): string {
  const full = parts(place, what)
  if (full.length <= SMS_MAX) return full
  const room = Math.max(0, SMS_MAX - parts('', '').length)
  const forWhat = Math.min(what.length, Math.max(room - place.length, Math.ceil(room / 2)))
  return parts(cut(place, room - forWhat), cut(what, forWhat))
}

export function render(locale: Locale, r: RenderInput): Message {
  const { alert, place, link } = r
  const sev = SEVERITY[locale][alert.severity]
  const due = clock(alert.ackDeadline, r.timezone)
  const escalated = r.step > 1
  // A default rule's alert is titled in the recipient's language; an operator's own rule keeps its title.
  const title = ruleText(alert.ruleId, locale)?.title ?? alert.title
  const reason = reasonIn(locale, alert.reasonDetail, alert.reason, { timeZone: r.timezone })
  if (locale === 'zh-CN') {
    const short = fit((p, w) => `【${sev}】${p}${w}，${due}前确认 ${link}`, place, title)
    const subject = `${escalated ? '【升级】' : ''}【${sev}】${place} ${title}`
    const text = [`${sev}告警：${title}`, `地点：${place}`, reason ? `原因：${reason}` : '', `请于 ${due} 前确认`, `打开：${link}`].filter(Boolean).join('\n')
    return { locale, alertId: String(alert.id), severity: alert.severity, subject, text, short, link, params: { severity: sev, place, what: title, deadline: due, link } }
  }
  const short = fit((p, w) => `[${sev}] ${p}: ${w}, ack by ${due} ${link}`, place, title)
  const subject = `${escalated ? '[ESCALATED] ' : ''}[${sev}] ${place}: ${title}`
  const text = [`${sev} alert: ${title}`, `Place: ${place}`, reason ? `Reason: ${reason}` : '', `Acknowledge by ${due}`, `Open: ${link}`].filter(Boolean).join('\n')
  return { locale, alertId: String(alert.id), severity: alert.severity, subject, text, short, link, params: { severity: sev, place, what: title, deadline: due, link } }
}
