// Configuring a channel: settings checked against the adapter's schema, credentials checked and
// sealed (AES-256-GCM, bound to the channel id) before they reach the database. The API routes
// and the tests both come through here; so does the check of where the channel will connect
// (channels/targets.ts: the vendor's host unless an admin overrides it, and the egress guard).
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { seal } from '../core/crypto.ts'
import type { Queryable } from '../core/db/client.ts'
import { AppError } from '../core/errors.ts'
import { insertChannel, updateChannel, type NotifyChannel } from '../core/repos/notify-setup.ts'
import type { ChannelKind } from './channel.ts'
import { checkChannelTarget, type TargetAccess } from './channels/targets.ts'
import { ADAPTERS } from './registry.ts'

export interface ChannelInput {
  companyId: string | null
  kind: ChannelKind
  name: string
  settings: unknown
  secrets?: Record<string, string> | undefined
  createdBy: string
}

function check(schema: z.ZodType, value: unknown, field: string): unknown {
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new AppError('validation_failed', `body.${[field, ...(issue?.path ?? [])].join('.')}: ${issue?.message ?? 'invalid'}`)
  }
  return parsed.data
}

export async function createChannel(db: Queryable, key: Buffer, c: ChannelInput, access: TargetAccess): Promise<NotifyChannel> {
  const entry = ADAPTERS[c.kind]
  const settings = check(entry.settings, c.settings, 'settings')
  await checkChannelTarget(c.kind, settings as Record<string, unknown>, access)
  const secrets = check(entry.secrets, c.secrets ?? {}, 'secrets')
  const id = randomUUID()
  const sealed = c.secrets && Object.keys(c.secrets).length > 0 ? seal(key, JSON.stringify(secrets), id) : null
  return insertChannel(db, { id, companyId: c.companyId, kind: c.kind, name: c.name, settings, secrets: sealed, createdBy: c.createdBy })
}

/**
 * Changes a channel's name and settings (its kind and owner stay: another kind is another channel),
 * checked as on creation; credentials given replace the sealed ones, none keeps them.
 */
export async function replaceChannel(
  db: Queryable,
  key: Buffer,
  existing: NotifyChannel,
  c: { name: string; settings: unknown; secrets?: Record<string, string> | undefined },
  access: TargetAccess,
): Promise<NotifyChannel | undefined> {
  const kind = existing.kind as ChannelKind
  const entry = ADAPTERS[kind]
  const settings = check(entry.settings, c.settings, 'settings')
  await checkChannelTarget(kind, settings as Record<string, unknown>, access)
  const given = c.secrets && Object.keys(c.secrets).length > 0 ? c.secrets : undefined
  const sealed = given === undefined ? undefined : seal(key, JSON.stringify(check(entry.secrets, given, 'secrets')), existing.id)
  return updateChannel(db, existing.id, { name: c.name, settings, secrets: sealed })
}
