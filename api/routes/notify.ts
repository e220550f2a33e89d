// Notification setup: channels (credentials write-only), people's contact points, escalation
// policies per severity (the office's and a company's own), and the delivery log of an alert.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { notifyOf } from '../plugins/deps.ts'
import { AppError } from '../../core/errors.ts'
import { SEVERITIES } from '../../shared/domain.ts'
import { getAlert } from '../../core/repos/alerts.ts'
import {
  CONTACT_KINDS,
  deleteChannel,
  deleteContact,
  deletePolicy,
  getChannel,
  insertContact,
  listChannels,
  listContacts,
  setChannelEnabled,
  upsertPolicy,
} from '../../core/repos/notify-setup.ts'
import { getCompany } from '../../core/repos/registry.ts'
import { getUser } from '../../core/repos/tokens.ts'
import { CHANNEL_KINDS, type ChannelKind } from '../../notify/channel.ts'
import { checkChannelTarget } from '../../notify/channels/targets.ts'
import { policyFor } from '../../notify/outbox.ts'
import { parsePolicy, policySchema } from '../../notify/policy.ts'
import { maskAddress } from '../../notify/mask.ts'
import { parseJson } from '../../notify/channels/http.ts'
import { subscriptionSchema } from '../../notify/channels/webpush.ts'
import { createChannel, replaceChannel } from '../../notify/setup.ts'
import { sendTestMessage } from '../../notify/test-message.ts'
import { deliveryLog, seesDeliveries, seesDeliveryDetail } from '../alerts/delivery-log.ts'
import { deliverySchema } from '../alerts/schemas.ts'
import { mustManage, mustRead, mustSeeAlert, principalOf, requireRole } from '../access.ts'
import { destinationDenial, type DestinationPolicy } from '../../core/egress.ts'
import { checked, errorResponses, limitParam, serialParams, timestamp } from '../schemas.ts'

const channelSchema = z.object({
  id: z.string(),
  companyId: z.string().nullable().describe('null: the housing office'),
  kind: z.string(),
  name: z.string(),
  settings: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
  hasSecrets: z.boolean().describe('Credentials are stored sealed and never returned'),
  createdBy: z.string(),
  createdAt: timestamp,
})

const contactSchema = z.object({
  id: z.number().int(),
  userId: z.string(),
  kind: z.enum(CONTACT_KINDS),
  address: z.string().describe('Phone numbers masked: 138****1234'),
  locale: z.enum(['zh-CN', 'en']),
  position: z.number().int(),
})

/**
 * A Web Push subscription comes from a user's browser, and the dispatcher POSTs to its endpoint:
 * like a webhook, it may only name an https endpoint that is not a loopback, private, link-local
 * or multicast address, nor a name resolving to one (EGRESS_ALLOW allows exceptions).
 */
async function checkSubscription(address: string, destinations: DestinationPolicy): Promise<void> {
  const parsed = subscriptionSchema.safeParse(parseJson(address))
  if (!parsed.success) throw new AppError('validation_failed', 'body.address: expected a Web Push subscription, the JSON of PushSubscription.toJSON() with endpoint and keys.p256dh, keys.auth')
  const url = new URL(parsed.data.endpoint)
  if (url.protocol !== 'https:') throw new AppError('validation_failed', `body.address: the subscription endpoint must be an https: URL, not ${url.protocol}`)
  const denied = await destinationDenial(url.hostname, destinations)
  if (denied !== undefined) throw new AppError('destination_denied', `body.address: the subscription endpoint's address is ${denied}; push endpoints may only be public addresses unless EGRESS_ALLOW allows it`)
}

const notify: FastifyPluginAsyncZod = async (app) => {
  const { db, settings: { egress: destinations } } = app.deps
  const ctx = notifyOf(app)

  app.post(
    '/notify/channels',
    {
      schema: {
        tags: ['notifications'],
        summary: "Configure a channel of a company (companyId) or of the housing office (no companyId); credentials are sealed and never returned",
        body: z.object({
          companyId: z.string().nullable().default(null),
          kind: z.enum(CHANNEL_KINDS),
          name: z.string().trim().min(1).max(100),
          settings: z.record(z.string(), z.unknown()).default({}),
          secrets: z.record(z.string(), z.string().max(4000)).optional(),
        }),
        response: { 201: channelSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = principalOf(req)
      await mustManage(db, p, req.body.companyId, 'channels')
      const row = await createChannel(db, ctx.secretKey, { ...req.body, createdBy: p.name }, { egress: destinations, mayOverrideVendorHost: p.role === 'admin' })
      return reply.code(201).send(row)
    },
  )

  app.get(
    '/notify/channels',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Channels of one owner (companyId, or none for the housing office); the office sees all with all=true',
        querystring: z.object({ companyId: z.string().optional(), all: z.coerce.boolean().default(false) }),
        response: { 200: z.object({ items: z.array(channelSchema) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = principalOf(req)
      const owner = req.query.companyId ?? null
      if (req.query.all) requireRole(req, 'admin', 'operator')
      else mustRead(p, owner, 'channels')
      const rows = await listChannels(db, req.query.all ? undefined : owner)
      return { items: rows }
    },
  )

  const channelParams = z.object({ id: z.uuid() })

  app.patch(
    '/notify/channels/:id',
    { schema: { tags: ['notifications'], summary: 'Enable or disable a channel', params: channelParams, body: z.object({ enabled: z.boolean() }), response: { 200: channelSchema, ...errorResponses } } },
    async (req) => {
      const existing = await getChannel(db, req.params.id)
      if (!existing) throw new AppError('not_found', `No channel ${req.params.id}`)
      await mustManage(db, principalOf(req), existing.companyId, 'channels')
      // A channel enabled again must still pass the egress guard (the allow-list or DNS may have changed).
      if (req.body.enabled) await checkChannelTarget(existing.kind as ChannelKind, existing.settings, { egress: destinations, mayOverrideVendorHost: true }, '')
      const row = await setChannelEnabled(db, req.params.id, req.body.enabled)
      if (!row) throw new AppError('not_found', `No channel ${req.params.id}`)
      return row
    },
  )

  app.put(
    '/notify/channels/:id',
    {
      schema: {
        tags: ['notifications'],
        summary: "Change a channel's name and settings (checked as on creation); secrets given replace the stored ones, none keeps them. Its kind and owner stay",
        params: channelParams,
        body: z.object({
          name: z.string().trim().min(1).max(100),
          settings: z.record(z.string(), z.unknown()).default({}),
          secrets: z.record(z.string(), z.string().max(4000)).optional(),
        }),
        response: { 200: channelSchema, ...errorResponses },
      },
    },
    async (req) => {
      const p = principalOf(req)
      const existing = await getChannel(db, req.params.id)
      if (!existing) throw new AppError('not_found', `No channel ${req.params.id}`)
      await mustManage(db, p, existing.companyId, 'channels')
      const row = await replaceChannel(db, ctx.secretKey, existing, req.body, { egress: destinations, mayOverrideVendorHost: p.role === 'admin' })
      if (!row) throw new AppError('not_found', `No channel ${req.params.id}`)
      return row
    },
  )

  app.post(
    '/notify/channels/:id/test',
    {
      schema: {
        tags: ['notifications'],
        summary: "Send a test message through a channel now, by its own sender and the egress guard: to address (none for a group-chat bot); answers what the vendor said, or 422 channel_test_failed",
        params: channelParams,
        body: z.object({
          address: z.string().trim().min(1).max(4000).optional().describe('An e-mail address, a phone number, a vendor user id or a push subscription; not for WeCom, DingTalk, Feishu bots'),
          locale: z.enum(['zh-CN', 'en']).default('zh-CN'),
        }),
        response: { 200: z.object({ ok: z.literal(true), status: z.string(), detail: z.string() }), ...errorResponses },
      },
    },
    async (req) => {
      const p = principalOf(req)
      const channel = await getChannel(db, req.params.id)
      if (!channel) throw new AppError('not_found', `No channel ${req.params.id}`)
      await mustManage(db, p, channel.companyId, 'channels')
      const outcome = await sendTestMessage(db, ctx.secretKey, channel, { ...req.body, by: p.name, link: ctx.links.console() }, destinations)
      if (!outcome.ok) throw new AppError('channel_test_failed', `The test message did not go through: ${outcome.detail} (${outcome.status})`)
      return { ok: true as const, status: outcome.status, detail: outcome.detail }
    },
  )

  app.delete(
    '/notify/channels/:id',
    { schema: { tags: ['notifications'], summary: 'Remove a channel (its queued deliveries go with it)', params: channelParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      const existing = await getChannel(db, req.params.id)
      if (!existing) throw new AppError('not_found', `No channel ${req.params.id}`)
      await mustManage(db, principalOf(req), existing.companyId, 'channels')
      await deleteChannel(db, req.params.id)
      return reply.code(204).send(null)
    },
  )

  // ---- Contact points: one's own, or (office, company manager) of the people one manages ----

  const userParams = z.object({ userId: z.string().min(1) })
  async function mayEditContacts(req: Parameters<typeof principalOf>[0], userId: string): Promise<void> {
    const p = principalOf(req)
    if (p.userId === userId) return
    const u = await getUser(db, userId)
    if (!u) throw new AppError('not_found', `No user ${userId}`)
    await mustManage(db, p, u.companyId, 'contact points')
  }
  const contactView = (c: z.infer<typeof contactSchema>) => ({ ...c, address: c.kind === 'phone' ? maskAddress(c.address) : c.address })

  app.get(
    '/users/:userId/contact-points',
    { schema: { tags: ['notifications'], summary: "A person's contact points in order of preference (phone numbers masked)", params: userParams, response: { 200: z.object({ items: z.array(contactSchema) }), ...errorResponses } } },
    async (req) => {
      await mayEditContacts(req, req.params.userId)
      return { items: (await listContacts(db, req.params.userId)).map(contactView) }
    },
  )

  app.post(
    '/users/:userId/contact-points',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Add a contact point: a phone (E.164 or 11-digit mainland number), an e-mail address, a WeCom/DingTalk/Feishu user id, a Web Push subscription',
        params: userParams,
        body: z.object({
          kind: z.enum(CONTACT_KINDS),
          address: z.string().trim().min(1).max(4000),
          locale: z.enum(['zh-CN', 'en']).default('zh-CN'),
          position: z.number().int().min(0).max(100).default(0).describe('0 = most preferred'),
        }),
        response: { 201: contactSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      await mayEditContacts(req, req.params.userId)
      const { kind, address } = req.body
      if (kind === 'phone' && !/^\+?\d{7,15}$/.test(address)) throw new AppError('validation_failed', 'body.address: expected a phone number such as 13812341234 or +8613812341234')
      if (kind === 'email' && !z.email().safeParse(address).success) throw new AppError('validation_failed', 'body.address: expected an e-mail address')
      if (kind === 'webpush') await checkSubscription(address, destinations)
      const row = await insertContact(db, { userId: req.params.userId, ...req.body }).catch((err: unknown) => {
        if ((err as { code?: string }).code === '23505') throw new AppError('conflict', 'This contact point exists already')
        throw err
      })
      return reply.code(201).send(contactView(row))
    },
  )

  app.delete(
    '/users/:userId/contact-points/:id',
    { schema: { tags: ['notifications'], summary: 'Remove a contact point', params: userParams.extend({ id: z.coerce.number().int().positive() }), response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await mayEditContacts(req, req.params.userId)
      if (!(await deleteContact(db, req.params.userId, req.params.id))) throw new AppError('not_found', `No contact point ${req.params.id}`)
      return reply.code(204).send(null)
    },
  )

  // ---- Escalation policies: the office's, and a company's own (which wins for its alerts) ----

  const policyView = z.object({
    severity: z.enum(SEVERITIES),
    companyId: z.string().nullable().describe('Whose alerts this answer is for; null: the housing office'),
    source: z.enum(['company', 'office', 'default']).describe("Where the policy in force comes from: the company's own, the housing office's, or the built-in default"),
    stored: z.boolean().describe('A stored policy (the company\'s or the office\'s), not the default'),
    policy: policySchema,
  })
  const ownerQuery = z.object({ companyId: z.string().min(1).optional().describe("A company's own policy; none: the housing office's") })

  /** The owner a policy request is about, once `req`'s principal may change it. */
  async function policyOwner(req: Parameters<typeof principalOf>[0], companyId: string | undefined): Promise<{ owner: string | null; by: string }> {
    if (companyId === undefined) return { owner: null, by: requireRole(req, 'admin', 'operator').name }
    const p = principalOf(req)
    await mustManage(db, p, companyId, 'policies')
    if (!(await getCompany(db, companyId))) throw new AppError('not_found', `No company ${companyId}`)
    return { owner: companyId, by: p.name }
  }

  app.get(
    '/notify/policies',
    {
      schema: {
        tags: ['notifications'],
        summary: "The escalation policy in force per severity for a company's alerts (companyId), or the housing office's: stored, or the default",
        querystring: ownerQuery,
        response: { 200: z.object({ items: z.array(policyView) }), ...errorResponses },
      },
    },
    async (req) => {
      const owner = req.query.companyId ?? null
      mustRead(principalOf(req), owner, 'policies')
      const items = []
      for (const severity of SEVERITIES) {
        const { policy, source } = await policyFor(db, severity, owner)
        items.push({ severity, companyId: owner, source, stored: source !== 'default', policy })
      }
      return { items }
    },
  )

  const severityParams = z.object({ severity: z.enum(SEVERITIES) })

  app.put(
    '/notify/policies/:severity',
    {
      schema: {
        tags: ['notifications'],
        summary:
          "Set the escalation policy of a severity: steps (crew, manager, duty rota; bots) and quiet hours (never for critical). With companyId, that company's own (its managers or the office; it must keep a duty step)",
        params: severityParams,
        querystring: ownerQuery,
        body: z.unknown(),
        response: { 200: policyView, ...errorResponses },
      },
    },
    async (req) => {
      const { owner, by } = await policyOwner(req, req.query.companyId)
      const parsed = checked('body', () => parsePolicy(req.params.severity, req.body, owner), 'invalid policy')
      await upsertPolicy(db, owner, req.params.severity, parsed, by)
      return { severity: req.params.severity, companyId: owner, source: owner === null ? ('office' as const) : ('company' as const), stored: true, policy: parsed }
    },
  )

  app.delete(
    '/notify/policies/:severity',
    {
      schema: {
        tags: ['notifications'],
        summary: "Remove a stored policy: a company's own (companyId; the office's then applies), or the office's (the default then applies)",
        params: severityParams,
        querystring: ownerQuery,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const { owner } = await policyOwner(req, req.query.companyId)
      await deletePolicy(db, owner, req.params.severity)
      return reply.code(204).send(null)
    },
  )

  // ---- The delivery log of an alert ----

  app.get(
    '/alerts/:id/deliveries',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Who was paged for this alert, over which channel, and how each attempt went (phone numbers masked; what the vendor answered for the office only)',
        params: serialParams,
        querystring: z.object({ limit: limitParam }),
        response: { 200: z.object({ items: z.array(deliverySchema) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = principalOf(req)
      if (!seesDeliveries(p)) throw new AppError('forbidden', 'The delivery log is for the office and the crews')
      mustSeeAlert(p, await getAlert(db, req.params.id), req.params.id)
      return { items: await deliveryLog(db, req.params.id, req.query.limit, ctx.timezone, seesDeliveryDetail(p)) }
    },
  )
}

export default notify
