// The words of the domain: alert severities, states, sources and history events, and the roles
// people act in. Constants with their types, imported by every layer (the repositories, the API,
// the console's types, notifications); they hold no SQL, so they live here and not in core/repos.

export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const
/** Every kind of row in an alert's history; webhooks and the live stream filter on these. */
export const ALERT_EVENT_TYPES = ['raised', 'updated', 'cleared', 'acknowledged', 'en_route', 'arrived', 'started', 'resolved', 'commented', 'escalated', 'reminded', 'unsilenced', 'attachment'] as const
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
 */
export const ROLES = ['admin', 'operator', 'crew', 'service', 'resident'] as const
export type Role = (typeof ROLES)[number]
