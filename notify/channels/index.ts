// One place that knows every channel kind: the zod schema a channel's configuration is validated
// with (the API stores `settings` in clear and `secrets` encrypted, and never returns the latter),
// and the factory that turns a validated configuration into an adapter. Adding a vendor is one
// file under notify/channels/ plus one member here.
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { ChannelAdapter } from '../channel.ts'
import { dingtalkSecretsSchema, dingtalkSettingsSchema, createDingtalkChannel } from './dingtalk.ts'
import { createEmailChannel, emailSecretsSchema, emailSettingsSchema } from './email.ts'
import { createFeishuChannel, feishuSecretsSchema, feishuSettingsSchema } from './feishu.ts'
import type { ChannelDeps } from './http.ts'
import { aliyunSmsSecretsSchema, aliyunSmsSettingsSchema, createAliyunSmsChannel } from './sms-aliyun.ts'
import { createTencentSmsChannel, tencentSmsSecretsSchema, tencentSmsSettingsSchema } from './sms-tencent.ts'
import { createWecomChannel, wecomSecretsSchema, wecomSettingsSchema } from './wecom.ts'
import { createWebpushChannel, webpushSecretsSchema, webpushSettingsSchema } from './webpush.ts'

const member = <K extends string, S extends z.ZodType, T extends z.ZodType>(kind: K, settings: S, secrets: T) =>
  z.object({ kind: z.literal(kind), settings, secrets })

// ── sms_http ────────────────────────────────────────────────────────────────────────────────
// The generic HTTP SMS gateway adapter lives in notify/channels/sms-http.ts (built on the outbox
// branch). Until it is merged this member only reserves the kind: its settings and secrets are
// opaque here and createChannel refuses it. When sms-http.ts lands, replace this schema with its
// `httpSmsConfigSchema` and the case below with `createHttpSmsChannel(settings, secrets, deps)`.
const smsHttpConfigSchema = member('sms_http', z.record(z.string(), z.unknown()), z.record(z.string(), z.string()))
// ────────────────────────────────────────────────────────────────────────────────────────────

export const channelConfigSchema = z.discriminatedUnion('kind', [
  member('email', emailSettingsSchema, emailSecretsSchema),
  member('wecom', wecomSettingsSchema, wecomSecretsSchema),
  member('dingtalk', dingtalkSettingsSchema, dingtalkSecretsSchema),
  member('feishu', feishuSettingsSchema, feishuSecretsSchema),
  member('sms_aliyun', aliyunSmsSettingsSchema, aliyunSmsSecretsSchema),
  member('sms_tencent', tencentSmsSettingsSchema, tencentSmsSecretsSchema),
  smsHttpConfigSchema,
  member('webpush', webpushSettingsSchema, webpushSecretsSchema),
])
export type ChannelConfig = z.infer<typeof channelConfigSchema>
/** What a client sends: defaults not yet applied. */
export type ChannelConfigInput = z.input<typeof channelConfigSchema>

/** Ten seconds per request: long enough for a slow vendor, short enough not to hold the outbox. */
export const DEFAULT_CHANNEL_TIMEOUT_MS = 10_000

export function createChannel(config: ChannelConfig, deps: Partial<ChannelDeps> = {}): ChannelAdapter {
  const d: ChannelDeps = {
    fetch: deps.fetch ?? globalThis.fetch,
    now: deps.now ?? Date.now,
    nonce: deps.nonce ?? randomUUID,
    timeoutMs: deps.timeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS,
  }
  switch (config.kind) {
    case 'email':
      return createEmailChannel(config.settings, config.secrets, d)
    case 'wecom':
      return createWecomChannel(config.settings, config.secrets, d)
    case 'dingtalk':
      return createDingtalkChannel(config.settings, config.secrets, d)
    case 'feishu':
      return createFeishuChannel(config.settings, config.secrets, d)
    case 'sms_aliyun':
      return createAliyunSmsChannel(config.settings, config.secrets, d)
    case 'sms_tencent':
      return createTencentSmsChannel(config.settings, config.secrets, d)
    case 'sms_http':
      throw new Error('the sms_http channel is built by notify/channels/sms-http.ts, which is not merged yet')
    case 'webpush':
      return createWebpushChannel(config.settings, config.secrets, d)
  }
}

export type { ChannelDeps } from './http.ts'
