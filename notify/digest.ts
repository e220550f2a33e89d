// A group's digest (alerts/grouping.ts): the first alert of a group paged as usual; the members
// raised after it within the window are told in one message when the window closes — how many,
// and where each is — to the people the first alert paged. The SMS form keeps to one segment like
// a page does (render.ts): the count, the title and the link are never cut; the places are.
import type { Alert } from '../core/repos/alerts.ts'
import { ruleText } from '../shared/catalogue-text.ts'
import type { Locale, Message } from './channel.ts'
import { fit, segmentMax, type Part } from './render.ts'

/** Places named in the long forms, at most; the rest are counted. */
export const DIGEST_LISTED = 10

export interface DigestInput {
  /** The group's first alert (its title and severity speak for the group). */
  first: Alert
  /** The later members, first first, each with where it is (device, building, position) and its state. */
  members: readonly { alert: Alert; place: string }[]
  /** How many later members there are (may exceed `members`). */
  total: number
  community: string
  link: string
  signature?: string
}

const SEVERITY: Record<Locale, Record<Alert['severity'], string>> = {
  'zh-CN': { critical: '紧急', major: '重要', minor: '一般', warning: '提示' },
  en: { critical: 'CRITICAL', major: 'MAJOR', minor: 'MINOR', warning: 'WARNING' },
}

const STATE: Record<Locale, Record<Alert['state'], string>> = {
  'zh-CN': { open: '待确认', acknowledged: '已确认', in_progress: '处理中', resolved: '已解决' },
  en: { open: 'open', acknowledged: 'acknowledged', in_progress: 'in progress', resolved: 'resolved' },
}

export function renderDigest(locale: Locale, d: DigestInput): Message {
  const zh = locale === 'zh-CN'
  const sev = SEVERITY[locale][d.first.severity]
  const title = ruleText(d.first.ruleId, locale)?.title ?? d.first.title
  const places = d.members.map((m) => m.place || `#${m.alert.id}`)
  const subject = zh ? `【${sev}】${d.community} ${title}：另有 ${d.total} 条同类告警` : `[${sev}] ${d.community}: ${d.total} more "${title}" alerts`
  const head = zh
    ? `${d.community}在首条告警后又发生 ${d.total} 条「${title}」告警（首条已单独通知）：`
    : `${d.total} more "${title}" alerts in ${d.community} after the first (paged on its own):`
  const state = (a: Alert) => (zh ? `（${STATE[locale][a.state]}）` : ` (${STATE[locale][a.state]})`)
  const lines = d.members.slice(0, DIGEST_LISTED).map((m, i) => `${i + 1}. ${places[i] ?? ''}${state(m.alert)}`)
  const more = d.total > DIGEST_LISTED ? (zh ? `……另 ${d.total - DIGEST_LISTED} 条` : `… and ${d.total - DIGEST_LISTED} more`) : ''
  const text = [head, ...lines, more, zh ? `打开：${d.link}` : `Open: ${d.link}`].filter(Boolean).join('\n')
  // The SMS, cut to one segment with the gateway's signature: the places first (to nothing), then
  // the community, then the title (to a stem); never the severity, the count or the link.
  const signature = d.signature ?? ''
  const parts: Part[] = [
    { text: places.join(zh ? '、' : ', '), keep: 0, floor: 0 },
    { text: d.community, keep: 4, floor: 0 },
    { text: title, keep: 4, floor: 4 },
  ]
  const max = (s: string) => segmentMax(signature + s) - signature.length
  const short = zh
    ? fit(([w, c, t]) => `【${sev}】${c ?? ''}另有${d.total}条${t ?? ''}${w ? `：${w}` : ''} ${d.link}`, parts, max, '…')
    : fit(([w, c, t]) => `[${sev}] ${d.total} more ${t ?? ''}${c ? ` in ${c}` : ''}${w ? `: ${w}` : ''} ${d.link}`, parts, max, '.')
  return {
    locale,
    alertId: String(d.first.id),
    severity: d.first.severity,
    subject,
    text,
    short,
    link: d.link,
    params: { severity: sev, place: d.community, device: places.slice(0, 3).join(zh ? '、' : ', '), what: title, deadline: '', due: zh ? `另有${d.total}条` : `${d.total} more`, link: d.link },
  }
}
