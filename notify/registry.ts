// Which adapter serves which channel kind, with the schemas of its settings and secrets (checked
// when a channel is configured through the API, so a bad setting fails there, not at 3 a.m.).
// The kinds themselves are listed once, in notify/channels/index.ts; this is the outbox's view of
// them (tests hand the dispatcher a registry of their own).
import type { z } from 'zod'
import { CHANNEL_KINDS, type ChannelAdapter, type ChannelKind } from './channel.ts'
import { channelConfigSchema, channelSchemas, createChannel, type ChannelDeps } from './channels/index.ts'

export interface AdapterEntry {
  settings: z.ZodType
  secrets: z.ZodType
  create(settings: unknown, secrets: unknown, deps?: Partial<ChannelDeps>): ChannelAdapter
}

function entry(kind: ChannelKind): AdapterEntry {
  return {
    ...channelSchemas[kind],
    create: (settings, secrets, deps) => createChannel(channelConfigSchema.parse({ kind, settings, secrets }), deps),
  }
}

/** Every kind the contract names, each served through the one factory. */
export const ADAPTERS = Object.fromEntries(CHANNEL_KINDS.map((kind) => [kind, entry(kind)])) as Record<ChannelKind, AdapterEntry>
