// The page a notification link opens (api/routes/notify-links.ts), for a crew member on the
// street with a phone: in their language, naming the place, the device and the deadline, one big
// button when there is something to do and a plain sentence when there is not. Pure: HTML from
// what the route found, so every case is rendered the same way in both languages. No script: the
// button is a plain form post, which works on any phone browser and under the API's CSP.
import type { DeviceKind } from '../shared/metric-catalogue.ts'
import type { Alert } from '../core/repos/alerts.ts'
import { titleIn } from '../shared/alert-title.ts'
import { nameIn } from '../shared/demo-names.ts'
import { storedReasonIn } from '../shared/catalogue-text.ts'
import { geoLink, placeText } from '../shared/place.ts'
import { reasonIn } from '../shared/reason-text.ts'
import type { Locale } from './channel.ts'

/** What the page tells its reader besides the alert. */
export type LinkNotice =
  /** The recipient may acknowledge: the button. */
  | { kind: 'ack' }
  /** The recipient acknowledged it (through this link or elsewhere). */
  | { kind: 'done'; at: Date }
  /** Someone else already acknowledged it. */
  | { kind: 'taken'; by: string; at: Date | null }
  | { kind: 'resolved'; by: string | null; at: Date | null }
  /** A group-chat link names nobody: acknowledging is done in the console, signed in. */
  | { kind: 'group' }
  /** This link was used already, by its recipient. */
  | { kind: 'used' }

/** Why a link shows no alert at all. */
export type LinkRefusal = 'not_found' | 'expired' | 'revoked'

/** The device as the page names it: where it is, and an elevator's codes for the rescue call. */
export interface LinkPageDevice {
  id: string
  name: string | null
  kind: DeviceKind
  building?: string | null
  unit?: string | null
  floor?: string | null
  location?: string | null
  registrationCode?: string | null
  rescueCode?: string | null
  latitude?: number | null
  longitude?: number | null
}

export interface LinkPageAlert {
  alert: Alert
  community: string | null
  device: LinkPageDevice | null
  /** The console's view of the alert. */
  consoleUrl: string
}

const TEXT = {
  'zh-CN': {
    severity: { critical: '紧急', major: '重要', minor: '一般', warning: '提示' },
    state: { open: '待确认', acknowledged: '已确认', in_progress: '处理中', resolved: '已解决' },
    brand: '住房管理大脑 · 告警',
    kind: { manhole: '井盖', fire_tank: '消防水箱', elevator: '电梯', gateway: '网关' },
    place: '地点',
    device: '设备',
    rescueCode: '救援识别码',
    registrationCode: '电梯注册代码',
    navigate: '在地图中打开',
    reason: '原因',
    deadline: '确认期限',
    resolveBy: '解决期限',
    state_label: '状态',
    left: (m: string) => `还剩 ${m}`,
    late: (m: string) => `已超时 ${m}`,
    minutes: (n: number) => (n < 120 ? `${n} 分钟` : `${Math.floor(n / 60)} 小时 ${n % 60} 分钟`),
    ack: '确认接单',
    ackHint: '确认后由你负责，系统不再呼叫其他人。',
    done: (at: string) => `你已于 ${at} 确认此告警。请尽快赶往现场。`,
    taken: (by: string, at: string) => `此告警已由 ${by}${at ? ` 于 ${at}` : ''} 确认，无需再次确认。`,
    resolved: (by: string, at: string) => `此告警已${at ? `于 ${at} ` : ''}解决${by ? `（${by}）` : ''}，无需处理。`,
    group: '这是群消息链接，不代表任何人。请在控制台登录后确认。',
    used: '此链接已使用过。',
    console: '在控制台打开',
    refused: {
      not_found: ['链接无效', '此链接无效或不完整。请检查短信中的完整链接，或在控制台中查看告警。'],
      expired: ['链接已过期', '此链接已过期。请在控制台中查看并处理告警。'],
      revoked: ['链接已失效', '此链接已失效：收件人的账号已停用，或已不再负责此告警。请联系值班人员或在控制台登录。'],
    },
    consoleHome: '打开控制台',
  },
  en: {
    severity: { critical: 'Critical', major: 'Major', minor: 'Minor', warning: 'Warning' },
    state: { open: 'Open', acknowledged: 'Acknowledged', in_progress: 'In progress', resolved: 'Resolved' },
    brand: 'housing-brain · alert',
    kind: { manhole: 'Manhole', fire_tank: 'Fire tank', elevator: 'Elevator', gateway: 'Gateway' },
    place: 'Place',
    device: 'Device',
    rescueCode: 'Rescue code',
    registrationCode: 'Registration code',
    navigate: 'Open in maps',
    reason: 'Reason',
    deadline: 'Acknowledge by',
    resolveBy: 'Resolve by',
    state_label: 'State',
    left: (m: string) => `${m} left`,
    late: (m: string) => `${m} overdue`,
    minutes: (n: number) => (n < 120 ? `${n} min` : `${Math.floor(n / 60)} h ${n % 60} min`),
    ack: 'Acknowledge',
    ackHint: 'You take it on: the alert is recorded as yours and nobody else is paged for it.',
    done: (at: string) => `You acknowledged this alert at ${at}. Please head to the site.`,
    taken: (by: string, at: string) => `${by} already acknowledged this alert${at ? ` at ${at}` : ''}; nothing to do.`,
    resolved: (by: string, at: string) => `This alert was resolved${at ? ` at ${at}` : ''}${by ? ` by ${by}` : ''}; nothing to do.`,
    group: 'This link was posted to a group and names nobody: sign in to the console to acknowledge.',
    used: 'This link has been used already.',
    console: 'Open in the console',
    refused: {
      not_found: ['Link not valid', 'This link is not valid or is incomplete. Check the whole link in the message, or look the alert up in the console.'],
      expired: ['Link expired', 'This link has expired. Open the alert in the console to deal with it.'],
      revoked: ['Link no longer valid', "This link no longer works: its recipient's account is disabled or no longer responsible for this alert. Call the duty officer or sign in to the console."],
    },
    consoleHome: 'Open the console',
  },
} as const

/** The language of the page: the browser's first of ours, else the message's. */
export function pageLocale(acceptLanguage: string | undefined, linkLocale: Locale): Locale {
  const wanted = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().toLowerCase().split(';')
      const q = Number(params.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? 1)
      return { tag, q: Number.isFinite(q) ? q : 0, i }
    })
    .filter((w) => w.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
  for (const { tag } of wanted) {
    if (tag.startsWith('zh')) return 'zh-CN'
    if (tag.startsWith('en')) return 'en'
  }
  return linkLocale
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** A time as the reader's clock shows it: "22:28" today, with the date on another day. */
function when(locale: Locale, at: Date, timezone: string, now?: Date): string {
  const day = (d: Date) => d.toLocaleDateString('en-CA', { timeZone: timezone })
  const sameDay = now !== undefined && day(at) === day(now)
  const opts: Intl.DateTimeFormatOptions = { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(sameDay ? {} : { month: 'short', day: 'numeric' }) }
  return new Intl.DateTimeFormat(locale === 'zh-CN' ? 'zh-CN' : 'en-GB', opts).format(at)
}

const STYLE = `
body{font:17px/1.45 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f3f4f6;color:#111827}
main{max-width:32rem;margin:0 auto;padding:1rem}
.card{background:#fff;border-radius:12px;padding:1rem 1.1rem;box-shadow:0 1px 3px rgba(0,0,0,.12);border-top:6px solid #6b7280}
.sev-critical{border-top-color:#b91c1c}.sev-major{border-top-color:#c2410c}.sev-minor{border-top-color:#a16207}.sev-warning{border-top-color:#1d4ed8}
.badge{display:inline-block;font-size:.85rem;font-weight:600;padding:.1rem .55rem;border-radius:999px;background:#e5e7eb;margin-right:.35rem}
.badge.sev{color:#fff;background:#6b7280}.sev-critical .badge.sev{background:#b91c1c}.sev-major .badge.sev{background:#c2410c}.sev-minor .badge.sev{background:#a16207}.sev-warning .badge.sev{background:#1d4ed8}
h1{font-size:1.35rem;line-height:1.3;margin:.5rem 0 .75rem;overflow-wrap:anywhere}
dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:.35rem .8rem}dt{color:#4b5563}dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.late,.left{display:block;font-size:.95rem}.late{color:#b91c1c}.left{color:#15803d}
.brand{margin:0 0 .6rem;font-size:.85rem;color:#4b5563;letter-spacing:.02em}
form{margin:1.25rem 0 .25rem}
button{width:100%;min-height:3.5rem;font:inherit;font-size:1.25rem;font-weight:700;color:#fff;background:#15803d;border:0;border-radius:10px;cursor:pointer}
button:active{background:#166534}
.hint{font-size:.9rem;color:#4b5563;margin:.5rem 0 0}
.notice{margin:1.1rem 0 0;padding:.8rem .9rem;border-radius:8px;background:#ecfdf5;color:#065f46;font-weight:600}
.notice.info{background:#eff6ff;color:#1e3a8a}.notice.warn{background:#fef2f2;color:#991b1b}
.console{display:block;text-align:center;margin:1rem 0 0;padding:.8rem;font-weight:600;color:#1d4ed8}
`

function page(locale: Locale, title: string, body: string): string {
  return `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><link rel="icon" href="/console/icon.svg"><title>${esc(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`
}

/** The alert, what its reader may do about it, and the way to the console. */
export function alertPage(locale: Locale, view: LinkPageAlert, notice: LinkNotice, timezone: string, now: Date): string {
  const T = TEXT[locale]
  const a = view.alert
  const title = titleIn(locale, a)
  const d = view.device
  // Building, unit and floor as the messages word them; the device's own position, else the alert's
  // (a resident's report names where the hazard is).
  const place = placeText(locale, { community: view.community === null ? null : nameIn(locale, view.community), building: d?.building, unit: d?.unit, floor: d?.floor, location: d?.location ?? a.location })
  // The deadline that matters now: to acknowledge while open, to resolve once someone has it.
  const [dueLabel, due] = a.state === 'open' ? [T.deadline, a.ackDeadline] : [T.resolveBy, a.resolveDeadline]
  const minutes = Math.round((due.getTime() - now.getTime()) / 60_000)
  const deadline =
    a.state === 'resolved'
      ? esc(when(locale, due, timezone, now))
      : `${esc(when(locale, due, timezone, now))} <span class="${minutes < 0 ? 'late' : 'left'}">${minutes < 0 ? T.late(T.minutes(-minutes)) : T.left(T.minutes(minutes))}</span>`
  const device = d && `${T.kind[d.kind]} ${d.name ? `${nameIn(locale, d.name)} (${d.id})` : d.id}`
  const reason = reasonIn(locale, a.reasonDetail, storedReasonIn(a.ruleId, a.reason, locale), { timeZone: timezone })
  const rows = [
    place && `<dt>${T.place}</dt><dd id="place">${esc(place)}</dd>`,
    device && `<dt>${T.device}</dt><dd id="device">${esc(device)}</dd>`,
    d?.rescueCode && `<dt>${T.rescueCode}</dt><dd id="rescue-code">${esc(d.rescueCode)}</dd>`,
    d?.registrationCode && `<dt>${T.registrationCode}</dt><dd id="registration-code">${esc(d.registrationCode)}</dd>`,
    reason && `<dt>${T.reason}</dt><dd id="reason">${esc(reason)}</dd>`,
    `<dt>${dueLabel}</dt><dd id="deadline">${deadline}</dd>`,
    `<dt>${T.state_label}</dt><dd id="state">${T.state[a.state]}</dd>`,
  ].filter(Boolean)
  const at = (t: Date | null) => (t ? when(locale, t, timezone, now) : '')
  let action: string
  switch (notice.kind) {
    case 'ack':
      action = `<form method="post"><button type="submit" id="ack">${T.ack}</button></form><p class="hint">${T.ackHint}</p>`
      break
    case 'done':
      action = `<p class="notice" id="notice" role="status">${esc(T.done(at(notice.at)))}</p>`
      break
    case 'taken':
      action = `<p class="notice info" id="notice" role="status">${esc(T.taken(notice.by, at(notice.at)))}</p>`
      break
    case 'resolved':
      action = `<p class="notice info" id="notice" role="status">${esc(T.resolved(notice.by ?? '', at(notice.at)))}</p>`
      break
    case 'group':
      action = `<p class="notice info" id="notice">${esc(T.group)}</p>`
      break
    case 'used':
      action = `<p class="notice info" id="notice" role="status">${esc(T.used)}</p>`
      break
  }
  // The phone's map app at the device (RFC 5870 geo URI), for the way to the door.
  const map = d?.latitude != null && d.longitude != null ? `<a class="console" id="navigate" href="${esc(geoLink(d.latitude, d.longitude, place || d.id))}">${T.navigate}</a>` : ''
  const body = `<p class="brand">${T.brand}</p><article class="card sev-${a.severity}"><span class="badge sev">${T.severity[a.severity]}</span><span class="badge">#${a.id}</span>
<h1>${esc(title)}</h1><dl>${rows.join('')}</dl>${action}</article>
${map}<a class="console" href="${esc(view.consoleUrl)}">${T.console}</a>`
  return page(locale, title, body)
}

/** A link that leads nowhere: why, in a sentence, and the console. */
export function refusalPage(locale: Locale, why: LinkRefusal, consoleUrl: string): string {
  const [title, text] = TEXT[locale].refused[why]
  return page(locale, title, `<p class="brand">${TEXT[locale].brand}</p><article class="card"><h1>${esc(title)}</h1><p class="notice warn" id="notice" role="alert">${esc(text)}</p></article>
<a class="console" href="${esc(consoleUrl)}">${TEXT[locale].consoleHome}</a>`)
}
