// One place that knows every channel kind: the zod schema a channel's configuration is validated
// with (the API stores `settings` in clear and `secrets` encrypted, and never returns the latter),
// and the factory that turns a validated configuration into an adapter. Adding a vendor is one
// file under notify/channels/ plus one member here.
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { DENY_ALL_SPECIAL } from '../../core/egress.ts'
import type { ChannelAdapter } from '../channel.ts'
import { dingtalkSecretsSchema, dingtalkSettingsSchema, createDingtalkChannel } from './dingtalk.ts'
import { createEmailChannel, emailSecretsSchema, emailSettingsSchema } from './email.ts'
import { createFeishuChannel, feishuSecretsSchema, feishuSettingsSchema } from './feishu.ts'
import type { ChannelDeps } from './http.ts'
import { createHttpSmsChannel, httpSmsConfigSchema, httpSmsSecretsSchema } from './sms-http.ts'
import { aliyunSmsSecretsSchema, aliyunSmsSettingsSchema, createAliyunSmsChannel } from './sms-aliyun.ts'
import { createTencentSmsChannel, tencentSmsSecretsSchema, tencentSmsSettingsSchema } from './sms-tencent.ts'
import { createWecomChannel, wecomSecretsSchema, wecomSettingsSchema } from './wecom.ts'
import { createWebpushChannel, webpushSecretsSchema, webpushSettingsSchema } from './webpush.ts'

/**
 * Each vendor kind's settings (stored in clear, shown to administrators) and secrets (stored
 * sealed, never returned), for whoever validates a channel apart from building it (the API).
 */
export const channelSchemas = {
  email: { settings: emailSettingsSchema, secrets: emailSecretsSchema },
  wecom: { settings: wecomSettingsSchema, secrets: wecomSecretsSchema },
  dingtalk: { settings: dingtalkSettingsSchema, secrets: dingtalkSecretsSchema },
  feishu: { settings: feishuSettingsSchema, secrets: feishuSecretsSchema },
  sms_aliyun: { settings: aliyunSmsSettingsSchema, secrets: aliyunSmsSecretsSchema },
  sms_tencent: { settings: tencentSmsSettingsSchema, secrets: tencentSmsSecretsSchema },
  webpush: { settings: webpushSettingsSchema, secrets: webpushSecretsSchema },
  sms_http: { settings: httpSmsConfigSchema, secrets: httpSmsSecretsSchema },
} as const

const member = <K extends keyof typeof channelSchemas, S extends z.ZodType, T extends z.ZodType>(kind: K, schemas: { settings: S; secrets: T }) =>
  z.object({ kind: z.literal(kind), settings: schemas.settings, secrets: schemas.secrets })

export const channelConfigSchema = z.discriminatedUnion('kind', [
  member('email', channelSchemas.email),
  member('wecom', channelSchemas.wecom),
  member('dingtalk', channelSchemas.dingtalk),
  member('feishu', channelSchemas.feishu),
  member('sms_aliyun', channelSchemas.sms_aliyun),
  member('sms_tencent', channelSchemas.sms_tencent),
  member('sms_http', channelSchemas.sms_http),
  member('webpush', channelSchemas.webpush),
])
export type ChannelConfig = z.infer<typeof channelConfigSchema>
/** What a client sends: defaults not yet applied. */
export type ChannelConfigInput = z.input<typeof channelConfigSchema>

/** Ten seconds per request: long enough for a slow vendor, short enough not to hold the outbox. */
export const DEFAULT_CHANNEL_TIMEOUT_MS = 10_000

export function createChannel(config: ChannelConfig, deps: Partial<ChannelDeps> = {}): ChannelAdapter {
  const d: ChannelDeps = {
    now: deps.now ?? Date.now,
    nonce: deps.nonce ?? randomUUID,
    timeoutMs: deps.timeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS,
    // Public addresses only unless the caller passes the allow-list (EGRESS_ALLOW).
    egress: deps.egress ?? DENY_ALL_SPECIAL,
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
      return createHttpSmsChannel(config.settings, config.secrets, { egress: d.egress, now: () => new Date(d.now()) })
    case 'webpush':
      return createWebpushChannel(config.settings, config.secrets, d)
  }
}

export type { ChannelDeps } from './http.ts'
