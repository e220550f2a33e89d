// The catalogue of coded errors. Clients see `{ code, message }` with the status given here;
// tests assert the codes. A 5xx never carries internals.

export const ERRORS = {
  validation_failed: { status: 400, message: 'The request is not valid' },
  unauthorized: { status: 401, message: 'Sign in: a valid bearer token (Authorization: Bearer <token>) or the session cookie of POST /api/v1/session is required' },
  forbidden: { status: 403, message: 'Your role does not allow this action' },
  simulation_not_allowed: { status: 403, message: 'Faults are simulated on demo devices only (SIMULATE_FAULTS)' },
  not_found: { status: 404, message: 'No such resource' },
  device_not_found: { status: 404, message: 'No device with this id' },
  route_not_found: { status: 404, message: 'No such route' },
  conflict: { status: 409, message: 'The resource already exists' },
  // A maintenance window that has ended is kept as the record of what was silenced (api/routes/silences.ts).
  silence_ended: { status: 409, message: 'The maintenance window has ended and is kept as a record; start a new one' },
  // Disabled users (PATCH /api/v1/users/:id).
  user_disabled: { status: 401, message: 'The user of this token is disabled; an admin can enable them again' },
  // Signing in with a password (issue 20; api/routes/session.ts, api/plugins/auth.ts).
  sign_in_failed: { status: 401, message: 'user name or password is wrong' },
  session_ended: { status: 401, message: 'The session has ended (signed out, 30 minutes idle or 12 hours old); sign in again' },
  csrf: {
    status: 403,
    message: 'A change made with the session cookie must carry the header x-hb-csrf with the csrf value that POST /api/v1/session and GET /api/v1/me return',
  },
  password_change_required: { status: 403, message: 'Change your password first: PUT /api/v1/me/password with {current, next}' },
  wrong_password: { status: 403, message: 'The current password is wrong' },
  weak_password: { status: 400, message: 'The new password does not meet the rules' },
  password_unchanged: { status: 400, message: 'The new password must differ from the current one' },
  // One-time codes at sign-in (issue 20; core/totp.ts, api/routes/totp.ts).
  totp_failed: { status: 401, message: 'The code is wrong or was used already; type the code your authenticator app shows now, or one of your recovery codes' },
  totp_ticket_invalid: { status: 401, message: 'This sign-in has expired (after 5 minutes or too many wrong codes) or was completed; sign in again with your password' },
  totp_code_wrong: { status: 400, message: 'The code does not match; check that the phone\'s clock is right and type the code it shows now' },
  totp_not_offered: { status: 403, message: 'One-time codes are for admins, operators and crew members' },
  totp_already_on: { status: 409, message: 'One-time codes are on already; turn them off first (DELETE /api/v1/me/totp)' },
  totp_not_started: { status: 409, message: 'No set-up is in progress, or it is older than 10 minutes; start again with POST /api/v1/me/totp' },
  totp_enrolment_required: {
    status: 403,
    message: 'Admins and operators must sign in with a one-time code here (TOTP_REQUIRED): set it up first with POST /api/v1/me/totp and POST /api/v1/me/totp/confirm',
  },
  totp_required: { status: 409, message: 'Admins and operators cannot turn one-time codes off here (TOTP_REQUIRED); for a new phone, an admin resets them and you set them up again' },
  totp_unavailable: { status: 503, message: 'One-time codes need the secret key of this server (NOTIFY_SECRET_KEY), which this process was started without' },
  // Signing in with WeCom (企业微信) or DingTalk (钉钉; api/routes/sign-in-providers.ts, core/sso/): the
  // callback turns these into the console's sign-in page with the code, said there in the page's language.
  sign_in_unavailable: { status: 404, message: 'This way of signing in is not configured on this server (WeCom: WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET; DingTalk: DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET)' },
  sign_in_state_invalid: { status: 400, message: 'This sign-in has expired, was used already or was started in another browser; start again from the sign-in page' },
  sign_in_busy: { status: 503, message: 'Too many sign-ins are under way; retry in a minute' },
  wecom_code_invalid: { status: 400, message: 'WeCom did not accept the sign-in code (used already or older than 5 minutes); start again from the sign-in page' },
  wecom_not_member: { status: 403, message: 'This WeCom account is not a member of the organisation; only its members may sign in' },
  wecom_not_linked: { status: 403, message: 'This WeCom account is not linked to a housing-brain user; ask the office to link it' },
  wecom_config: { status: 502, message: "WeCom refused this server's app settings; an admin must check WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET and the app's trusted domain" },
  wecom_failed: { status: 502, message: 'WeCom could not be reached or gave an unexpected answer; retry in a minute' },
  dingtalk_code_invalid: { status: 400, message: 'DingTalk did not accept the sign-in code (used already or expired); start again from the sign-in page' },
  dingtalk_not_linked: { status: 403, message: 'This DingTalk account is not linked to a housing-brain user; ask the office to link it' },
  dingtalk_config: { status: 502, message: "DingTalk refused this server's app settings; an admin must check DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET, the app's redirect URL and its 通讯录个人信息读权限 permission" },
  dingtalk_failed: { status: 502, message: 'DingTalk could not be reached or gave an unexpected answer; retry in a minute' },
  cannot_disable_self: { status: 409, message: 'An admin cannot disable themselves; ask another admin' },
  invalid_transition: { status: 409, message: 'The alert is not in a state that allows this action' },
  destination_denied: { status: 400, message: 'Nothing this server sends may target loopback, private, link-local, multicast or other special addresses unless EGRESS_ALLOW allows them' },
  too_many_streams: { status: 429, message: 'Too many open alert streams for this token' },
  // Photos of an alert (api/routes/photos.ts).
  photo_too_large: { status: 413, message: 'The photo is larger than PHOTO_MAX_BYTES allows' },
  unsupported_photo_type: { status: 415, message: 'Send a JPEG, PNG or WebP image' },
  too_many_photos: { status: 409, message: 'The alert has as many photos as PHOTOS_PER_ALERT allows' },
  // Site plans of communities (api/routes/site-plans.ts).
  site_plan_too_large: { status: 413, message: 'The site plan is larger than SITE_PLAN_MAX_BYTES allows' },
  unsupported_site_plan_type: { status: 415, message: 'Send the site plan as a PNG, JPEG or WebP image' },
  site_plan_unreadable: { status: 422, message: 'The image header gives no usable size (at most 16384 × 16384 pixels)' },
  no_site_plan: { status: 409, message: "The device's community has no site plan yet; upload one first" },
  // Residents' limits (issue 18; api/alerts/resident-limits.ts): the message says when, Retry-After in seconds.
  report_limit: { status: 429, message: 'You have sent as many hazard reports as residents may for now; report again later' },
  photo_quota: { status: 429, message: 'You have sent as many photo bytes as residents may per day; add photos again later' },
  payload_too_large: { status: 413, message: 'The request body is too large' },
  bad_signature: { status: 401, message: 'The push is unsigned or its signature does not match the configured token' },
  // A signed push whose nonce was processed already (intake/http/onenet.ts): a replay, or a resend of a push already stored.
  replayed_push: { status: 409, message: 'This push was already processed (its nonce has been seen); nothing was done again' },
  telemetry_rejected: { status: 422, message: 'Nothing in the payload could be stored; every part is recorded as a dead letter (do not resend it unchanged)' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json' },
  // Bulk onboarding (api/routes/device-import.ts): every problem of the file, in details.problems.
  import_rejected: { status: 422, message: 'The file has problems (listed in details.problems); nothing was imported' },
  // Weights of the score (api/routes/score-weights.ts): versions take effect in the order they are made.
  weights_out_of_order: {
    status: 409,
    message: 'A weights version already takes effect at or after this effectiveFrom; give a later effectiveFrom (versions are never changed or slipped under one another)',
  },
  // CSV exports (api/routes/exports.ts): more rows than one file holds; nothing is sent.
  export_too_large: { status: 422, message: 'More rows match than one export holds; narrow the date range (from, to) or the filters' },
  // Notifications (issue 9).
  link_expired: { status: 410, message: 'This link has expired or has been used; open the alert in the console' },
  // Checked at every use: a disabled recipient, or one no longer responsible for the alert (issue 18).
  link_revoked: { status: 403, message: "This link no longer works: its recipient is disabled or no longer responsible for this alert" },
  // "Send a test message" of a channel (POST /api/v1/notify/channels/:id/test): what the vendor or server answered is in the message.
  channel_test_failed: { status: 422, message: 'The test message did not go through; the message says what the channel answered' },
  rate_limited: { status: 429, message: 'Too many requests; slow down and retry later' },
  internal: { status: 500, message: 'Internal error; it has been logged' },
  unavailable: { status: 503, message: 'A dependency is unavailable; retry later' },
  // The bound on concurrent secret checks (scrypt) of the HTTP device API is reached.
  auth_busy: { status: 503, message: 'Too many credential checks in progress; retry after the Retry-After delay' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof ERRORS

export class AppError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
  ) {
    super(message ?? ERRORS[code].message)
    this.name = 'AppError'
    this.status = ERRORS[code].status
  }
}

/** A command-line mistake: printed as it is, without a stack, and the command exits 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}
