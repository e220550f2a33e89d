// Which adapter serves which channel kind, with the schemas of its settings and secrets (checked
// when a channel is configured through the API, so a bad setting fails there, not at 3 a.m.).
// Each vendor adapter adds one line here.
import type { z } from 'zod'
import type { ChannelAdapter, ChannelKind } from './channel.ts'
import { createHttpSmsChannel, httpSmsConfigSchema, httpSmsSecretsSchema } from './channels/sms-http.ts'

export interface AdapterEntry {
  settings: z.ZodType
  secrets: z.ZodType
  create(settings: unknown, secrets: unknown): ChannelAdapter
}

export const ADAPTERS: Partial<Record<ChannelKind, AdapterEntry>> = {
  sms_http: { settings: httpSmsConfigSchema, secrets: httpSmsSecretsSchema, create: (s, k) => createHttpSmsChannel(s, k) },
}
