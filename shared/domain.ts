// The words of the domain: alert severities, states, sources and history events, and the roles
// people act in. Constants with their types, imported by every layer (the repositories, the API,
// the console's types, notifications); they hold no SQL, so they live here and not in core/repos.
// With them, what people read for severities, states and roles in each language: the console
// builds its strings from these labels and the CSV exports write them, so a spreadsheet and the
// screen it came from say 紧急 and 已解决 alike. It imports nothing: the console bundles it.

export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const
/** Every kind of row in an alert's history; webhooks and the live stream filter on these. */
export const ALERT_EVENT_TYPES = ['raised', 'updated', 'cleared', 'acknowledged', 'en_route', 'arrived', 'started', 'resolved', 'commented', 'escalated', 'reminded', 'unsilenced', 'attachment', 'assigned', 'published'] as const
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number]
export type Severity = (typeof SEVERITIES)[number]
export const ALERT_STATES = ['open', 'acknowledged', 'in_progress', 'resolved'] as const
export type AlertState = (typeof ALERT_STATES)[number]
export const ALERT_SOURCES = ['rules', 'node-red', 'resident', 'operator'] as const
export type AlertSource = (typeof ALERT_SOURCES)[number]

/**
 * admin: everything, users included. operator: the housing office, sees and works everything.
 * crew: one property company's communities, devices and alerts. service: the rules engine,
 * Node-RED (reports alerts, reads telemetry). resident: feedback and hazard reports for one community.
 * street_officer: reads one street's (街道/镇) communities, devices, alerts, companies and ranking; changes nothing.
 */
export const ROLES = ['admin', 'operator', 'crew', 'service', 'resident', 'street_officer'] as const
export type Role = (typeof ROLES)[number]

/** A label in each language people read (shared/catalogue-text.ts TEXT_LANGS). */
export type Labels<K extends string> = Record<K, { en: string; 'zh-CN': string }>

export const SEVERITY_LABELS: Labels<Severity> = {
  critical: { en: 'Critical', 'zh-CN': '紧急' },
  major: { en: 'Major', 'zh-CN': '重要' },
  minor: { en: 'Minor', 'zh-CN': '次要' },
  warning: { en: 'Warning', 'zh-CN': '预警' },
}

export const STATE_LABELS: Labels<AlertState> = {
  open: { en: 'Open', 'zh-CN': '待确认' },
  acknowledged: { en: 'Acknowledged', 'zh-CN': '已确认' },
  in_progress: { en: 'In progress', 'zh-CN': '处理中' },
  resolved: { en: 'Resolved', 'zh-CN': '已解决' },
}

export const ROLE_LABELS: Labels<Role> = {
  admin: { en: 'Administrator', 'zh-CN': '管理员' },
  operator: { en: 'Operator', 'zh-CN': '值班员' },
  crew: { en: 'Crew', 'zh-CN': '维修人员' },
  service: { en: 'Service', 'zh-CN': '服务账号' },
  resident: { en: 'Resident', 'zh-CN': '居民' },
  street_officer: { en: 'Street officer', 'zh-CN': '街道监管员' },
}
