// The channel form's model: which settings and credentials each kind has (mirrors the schemas in
// notify/channels/*.ts), how a stored channel becomes form text and back. Settings the form does not
// show (an SMS gateway's headers and body, timeouts) go in "other settings" as JSON and are kept.
export const CHANNEL_KINDS = ['sms_http', 'email', 'wecom', 'dingtalk', 'feishu', 'sms_aliyun', 'sms_tencent', 'webpush'] as const
export type ChannelKind = (typeof CHANNEL_KINDS)[number]

export interface FieldSpec {
  /** `settings.x` or `secrets.x`, as the API names it in its messages. */
  path: string
  type?: 'number' | 'bool'
  /** Only an admin may point a vendor's channel elsewhere (the API says so otherwise). */
  admin?: boolean
}

const s = (name: string, extra: Omit<FieldSpec, 'path'> = {}): FieldSpec => ({ path: `settings.${name}`, ...extra })
const secret = (name: string): FieldSpec => ({ path: `secrets.${name}` })
const base = s('baseUrl', { admin: true })

export const KIND_FIELDS: Record<ChannelKind, readonly FieldSpec[]> = {
  sms_http: [s('url'), s('signature')],
  email: [s('host'), s('port', { type: 'number' }), s('from'), s('username'), secret('password'), s('requireTLS', { type: 'bool' })],
  wecom: [secret('key'), base],
  dingtalk: [secret('accessToken'), secret('secret'), base],
  feishu: [secret('hookId'), secret('secret'), base],
  sms_aliyun: [s('accessKeyId'), s('signName'), s('templateCode'), secret('accessKeySecret'), base],
  sms_tencent: [s('secretId'), s('smsSdkAppId'), s('signName'), s('templateId'), secret('secretKey'), base],
  webpush: [s('vapidPublicKey'), s('subject'), secret('vapidPrivateKey')],
}

/** Kinds that post to a group chat: a test message needs no address. */
export const BOT_KINDS: readonly string[] = ['wecom', 'dingtalk', 'feishu']

/** Every field path any kind shows, plus the form's own, for spreading the API's messages. */
export const CHANNEL_KNOWN: readonly string[] = ['kind', 'name', 'settings', 'secrets', 'other', ...new Set(Object.values(KIND_FIELDS).flatMap((f) => f.map((x) => x.path)))]

export interface ChannelForm {
  kind: ChannelKind
  name: string
  /** Field path → text ('true'/'false' for a checkbox). */
  values: Record<string, string>
  /** The settings no field shows, as JSON. */
  other: string
}

const key = (path: string) => path.slice(path.indexOf('.') + 1)

export function channelFormOf(c: { kind: string; name: string; settings: Record<string, unknown> } | null): ChannelForm {
  const kind = (CHANNEL_KINDS.find((k) => k === c?.kind) ?? 'sms_http')
  const values: Record<string, string> = {}
  const shown = new Set(KIND_FIELDS[kind].filter((f) => f.path.startsWith('settings.')).map((f) => key(f.path)))
  const rest = Object.fromEntries(Object.entries(c?.settings ?? {}).filter(([k]) => !shown.has(k)))
  for (const k of shown) {
    const v = c?.settings[k]
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') values[`settings.${k}`] = String(v)
  }
  return { kind, name: c?.name ?? '', values, other: Object.keys(rest).length > 0 ? JSON.stringify(rest, null, 1) : '' }
}

/** The request body; throws a message naming "other" when its JSON does not parse. */
export function channelBodyOf(f: ChannelForm): { name: string; settings: Record<string, unknown>; secrets?: Record<string, string> } {
  let settings: Record<string, unknown> = {}
  if (f.other.trim() !== '') {
    const parsed: unknown = JSON.parse(f.other)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('other')
    settings = parsed as Record<string, unknown>
  }
  const secrets: Record<string, string> = {}
  for (const field of KIND_FIELDS[f.kind]) {
    const text = (f.values[field.path] ?? '').trim()
    if (field.type !== 'bool' && text === '') continue
    if (field.path.startsWith('secrets.')) secrets[key(field.path)] = text
    // A number left as typed when it is not one, so the API names the field.
    else settings[key(field.path)] = field.type === 'number' ? (Number.isFinite(Number(text)) ? Number(text) : text) : field.type === 'bool' ? text !== 'false' : text
  }
  return { name: f.name.trim(), settings, ...(Object.keys(secrets).length > 0 ? { secrets } : {}) }
}

/** Where a channel connects, for the list: its host or URL. */
export function targetOf(c: { settings: Record<string, unknown> }): string {
  const v = c.settings.url ?? c.settings.host ?? c.settings.baseUrl
  return typeof v === 'string' ? v : ''
}
