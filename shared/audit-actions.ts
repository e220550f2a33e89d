// The audit log's names for the changes people make, by route (method and pattern), and the
// mutating routes it leaves out, each with its reason. Data only: the console reads the names for
// its labels, test/integration/audit.test.ts fails when a mutating /api/v1 route is in neither
// table, and api/plugins/audit.ts still records a route missing from both (under a name built
// from its method and path), so a route added without a name is never silently unaudited.

/** `METHOD /pattern` → a stable action name, `<resource>.<verb>`. */
export const AUDIT_ACTIONS = {
  // Devices
  'POST /api/v1/devices': 'devices.create',
  'POST /api/v1/devices/import': 'devices.import',
  'PATCH /api/v1/devices/:id': 'devices.update',
  'POST /api/v1/devices/:id/secret': 'devices.rotate_secret',
  'DELETE /api/v1/devices/:id': 'devices.retire',
  'POST /api/v1/devices/:id/simulate-fault': 'devices.simulate_fault',
  // Maintenance windows: they hide alerts, which moves a company's ranking
  'POST /api/v1/silences': 'silences.create',
  'PATCH /api/v1/silences/:id': 'silences.update',
  'DELETE /api/v1/silences/:id': 'silences.end',
  // Rules and device profiles
  'POST /api/v1/rules': 'rules.create',
  'PUT /api/v1/rules/:id': 'rules.update',
  'DELETE /api/v1/rules/:id': 'rules.delete',
  'POST /api/v1/profiles': 'profiles.create',
  'PUT /api/v1/profiles/:id': 'profiles.update',
  'DELETE /api/v1/profiles/:id': 'profiles.delete',
  // Registry
  'POST /api/v1/streets': 'streets.create',
  'PATCH /api/v1/streets/:id': 'streets.update',
  'POST /api/v1/companies': 'companies.create',
  'PATCH /api/v1/companies/:id': 'companies.update',
  'POST /api/v1/communities': 'communities.create',
  'PATCH /api/v1/communities/:id': 'communities.update',
  'POST /api/v1/communities/:id/assignment': 'communities.assign',
  // Site plans and where devices stand on them (the image itself is recorded as its type and size)
  'PUT /api/v1/communities/:id/site-plan': 'site_plans.set',
  'DELETE /api/v1/communities/:id/site-plan': 'site_plans.delete',
  'PUT /api/v1/devices/:id/plan-position': 'devices.place',
  'DELETE /api/v1/devices/:id/plan-position': 'devices.unplace',
  // Users and tokens
  'POST /api/v1/users': 'users.create',
  'PATCH /api/v1/users/:id': 'users.update',
  'POST /api/v1/users/:id/tokens': 'tokens.issue',
  'DELETE /api/v1/tokens/:id': 'tokens.revoke',
  // Passwords and sessions (the passwords themselves never: api/plugins/audit.ts keeps no body of these)
  'POST /api/v1/users/:id/password': 'users.reset_password',
  'PUT /api/v1/me/password': 'users.change_password',
  'DELETE /api/v1/session': 'sessions.end',
  'DELETE /api/v1/sessions': 'sessions.end_all',
  // One-time codes (neither the secret nor a code is kept: api/plugins/audit.ts)
  'POST /api/v1/me/totp': 'totp.start',
  'POST /api/v1/me/totp/confirm': 'totp.enable',
  'DELETE /api/v1/me/totp': 'totp.disable',
  'DELETE /api/v1/users/:id/totp': 'users.reset_totp',
  // The second step of a sign-in, by the user of its ticket: refused codes too (a right password
  // with wrong codes means someone else may know the password)
  'POST /api/v1/session/totp': 'sessions.sign_in_code',
  // 12345 hotline cases: one row per import (shown beside the ranking)
  'POST /api/v1/hotline/cases': 'hotline.import',
  'POST /api/v1/hotline/cases/import': 'hotline.import_csv',
  // The score's weights: a new version re-weighs every period from its effectiveFrom
  'POST /api/v1/evaluation/weights': 'score_weights.create',
  // Residents' voice: it counts towards the ranking
  'POST /api/v1/communities/:id/feedback': 'feedback.create',
  'POST /api/v1/alerts/:id/rating': 'ratings.create',
  // Bulk by filter: one row with the filter (query) and the counts (target), besides each alert's history event
  'POST /api/v1/alerts/bulk/:action': 'alerts.bulk',
  // Notifications
  'POST /api/v1/webhooks': 'webhooks.create',
  'DELETE /api/v1/webhooks/:id': 'webhooks.delete',
  'POST /api/v1/notify/channels': 'channels.create',
  'PATCH /api/v1/notify/channels/:id': 'channels.update',
  'PUT /api/v1/notify/channels/:id': 'channels.replace',
  'POST /api/v1/notify/channels/:id/test': 'channels.test',
  'DELETE /api/v1/notify/channels/:id': 'channels.delete',
  'POST /api/v1/users/:userId/contact-points': 'contact_points.create',
  'DELETE /api/v1/users/:userId/contact-points/:id': 'contact_points.delete',
  'PUT /api/v1/notify/policies/:severity': 'policies.set',
  'DELETE /api/v1/notify/policies/:severity': 'policies.delete',
  'PUT /api/v1/rotas/:id': 'rotas.set',
  'POST /api/v1/rotas/:id/overrides': 'rota_overrides.create',
  'DELETE /api/v1/rotas/:id/overrides/:overrideId': 'rota_overrides.delete',
  'POST /api/v1/rotas/:id/handovers': 'handovers.create',
} as const satisfies Record<string, string>

export type AuditAction = (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS]

const IN_ALERT_HISTORY = 'alert lifecycle: every outcome is an alert_events row naming the actor (GET /api/v1/alerts/:id)'

/** Mutating /api/v1 routes the audit log leaves out, and why. Keep it short. */
export const AUDIT_EXCLUDED: Record<string, string> = {
  'POST /api/v1/alerts': `${IN_ALERT_HISTORY}; an office report raises or clears an alert as the rules engine does`,
  'POST /api/v1/alerts/ack': IN_ALERT_HISTORY,
  'POST /api/v1/alerts/:id/ack': IN_ALERT_HISTORY,
  'POST /api/v1/alerts/:id/en-route': IN_ALERT_HISTORY,
  'POST /api/v1/alerts/:id/arrive': IN_ALERT_HISTORY,
  'POST /api/v1/alerts/:id/start': IN_ALERT_HISTORY,
  'POST /api/v1/alerts/:id/resolve': IN_ALERT_HISTORY,
  'POST /api/v1/alerts/:id/comment': IN_ALERT_HISTORY,
  'POST /api/v1/alerts/:id/claim': `${IN_ALERT_HISTORY} (an assigned event)`,
  'POST /api/v1/alerts/:id/assign': `${IN_ALERT_HISTORY} (an assigned event, with from and to)`,
  'POST /api/v1/alerts/:id/publish': `${IN_ALERT_HISTORY} (a published event)`,
  'POST /api/v1/alerts/:id/photos': `${IN_ALERT_HISTORY} (an attachment event)`,
  'POST /api/v1/hazards': `${IN_ALERT_HISTORY}: a resident's report is an alert raised in their name`,
  'POST /api/v1/session': 'a sign-in: nobody is signed in yet, and its body is a password',
  'POST /api/v1/profiles/decode': 'a try-out of a decoder: nothing is stored',
  'POST /api/v1/profiles/:id/decode': 'a try-out of a decoder: nothing is stored',
}

/** `METHOD /pattern` of a route, as the tables above name it. */
export const routeKey = (method: string, pattern: string): string => `${method.toUpperCase()} ${pattern}`

/** The action name of a route; a route no table names gets one built from its method and path. */
export function actionOf(method: string, pattern: string): string {
  const key = routeKey(method, pattern)
  return Object.hasOwn(AUDIT_ACTIONS, key) ? AUDIT_ACTIONS[key as keyof typeof AUDIT_ACTIONS] : key
}
