// The link in a message: `/n/<token>` (notify/links.ts; README, "The acknowledge link"). A GET
// only shows the alert (chat apps and mail scanners fetch links to preview them); the page's
// button POSTs back and acknowledges as the person paged, once, before it expires, and only while
// that person may still act on the alert — checked at every use, not only when it was sent. A
// group-chat link names nobody and leads to the console's `#/alert/<id>`. Browsers get pages
// (notify/link-page.ts), other clients `{ code, message }` and JSON.
//
// Why no CSRF token: the signed token in the URL is the whole credential. No cookie or other
// ambient authority is involved, so a page elsewhere can only post a link it already knows — and
// whoever knows it may act anyway. The body is ignored, whatever its type (the form posts
// application/x-www-form-urlencoded, which the JSON-only API used to refuse with 415).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { notifyOf } from '../plugins/deps.ts'
import { AppError } from '../../core/errors.ts'
import { getAlert, type Alert } from '../../core/repos/alerts.ts'
import { getDevice } from '../../core/repos/devices.ts'
import { linkTarget, useLink, type LinkTarget } from '../../core/repos/notify-deliveries.ts'
import { getCommunity } from '../../core/repos/registry.ts'
import { alertPage, pageLocale, refusalPage, type LinkNotice, type LinkRefusal } from '../../notify/link-page.ts'
import { OFFICE } from '../access.ts'

const tokenParams = z.object({ token: z.string().max(40) })
/** The console's view of one alert (console/src/lib/router.ts: `#/alert/<id>`). */
const consoleAlertUrl = (alertId: number) => `/console/#/alert/${alertId}`

const REFUSAL: Record<LinkRefusal, AppError> = {
  not_found: new AppError('not_found', 'This link is not valid'),
  expired: new AppError('link_expired'),
  revoked: new AppError('link_revoked'),
}

type Found = { ok: true; target: LinkTarget; alert: Alert } | { ok: false; why: LinkRefusal; target: LinkTarget | undefined }

/** Whether the link's recipient may act on the alert now: as the API's acknowledge would allow. */
function mayAct(target: LinkTarget, alert: Alert): boolean {
  const u = target.user
  if (!u || u.disabled || target.userName === null) return false
  return OFFICE.includes(u.role) || (u.role === 'crew' && u.companyId !== null && u.companyId === alert.companyId)
}

/** What the reader of the page is told besides the alert (see LinkNotice). */
function noticeFor(target: LinkTarget, alert: Alert): LinkNotice {
  if (alert.state === 'resolved') return { kind: 'resolved', by: alert.resolvedBy, at: alert.resolvedAt }
  if (target.userId === null) return { kind: 'group' }
  if (alert.acknowledgedBy !== null && alert.acknowledgedBy === target.userName) return { kind: 'done', at: alert.acknowledgedAt ?? alert.lastSeenAt }
  if (alert.state !== 'open') return { kind: 'taken', by: alert.acknowledgedBy ?? '', at: alert.acknowledgedAt }
  if (target.usedAt !== null) return { kind: 'used' }
  return { kind: 'ack' }
}

/** A browser (or anything that takes any type), rather than a client asking for JSON or naming no type. */
function wantsHtml(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? ''
  return accept.includes('text/html') || (accept.includes('*/*') && !accept.includes('application/json'))
}

const notifyLinks: FastifyPluginAsyncZod = async (app) => {
  const ctx = notifyOf(app)
  const db = app.deps.db
  const clock = ctx.clock

  // The token is the credential and the body means nothing: take any (small) body as it comes.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 4096 }, (_req, _body, done) => done(null, undefined))

  async function find(token: string): Promise<Found> {
    const id = ctx.links.verify(token)
    const target = id === undefined ? undefined : await linkTarget(db, id)
    const alert = target ? await getAlert(db, target.alertId) : undefined
    if (!target || !alert) return { ok: false, why: 'not_found', target }
    if (target.expiresAt <= clock()) return { ok: false, why: 'expired', target }
    if (target.userId !== null && !mayAct(target, alert)) return { ok: false, why: 'revoked', target }
    return { ok: true, target, alert }
  }

  const locale = (req: FastifyRequest, target: LinkTarget | undefined) => pageLocale(req.headers['accept-language'], target?.locale ?? 'zh-CN')

  function html(reply: FastifyReply, status: number, body: string) {
    return reply.code(status).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').type('text/html; charset=utf-8').send(body)
  }

  function refuse(req: FastifyRequest, reply: FastifyReply, found: Extract<Found, { ok: false }>) {
    const err = REFUSAL[found.why]
    if (!wantsHtml(req)) throw err
    return html(reply, err.status, refusalPage(locale(req, found.target), found.why, '/console/'))
  }

  async function show(req: FastifyRequest, reply: FastifyReply, target: LinkTarget, alert: Alert, status = 200) {
    const community = alert.communityId ? ((await getCommunity(db, alert.communityId))?.name ?? alert.communityId) : null
    const device = alert.deviceId ? await getDevice(db, alert.deviceId) : undefined
    const view = { alert, community, device: device ?? null, consoleUrl: consoleAlertUrl(alert.id) }
    return html(reply, status, alertPage(locale(req, target), view, noticeFor(target, alert), ctx.timezone, clock()))
  }

  app.get(
    '/n/:token',
    { schema: { hide: true, params: tokenParams } },
    async (req, reply) => {
      const found = await find(req.params.token)
      if (!found.ok) return refuse(req, reply, found)
      return show(req, reply, found.target, found.alert)
    },
  )

  app.post(
    '/n/:token',
    { schema: { hide: true, params: tokenParams } },
    async (req, reply) => {
      const found = await find(req.params.token)
      if (!found.ok) return refuse(req, reply, found)
      const { target, alert } = found
      // A group-chat link names nobody: acknowledging needs a sign-in in the console.
      if (target.userId === null || target.userName === null) return reply.redirect(consoleAlertUrl(alert.id), 303)
      const notice = noticeFor(target, alert)
      if (notice.kind === 'ack') {
        if (await useLink(db, target.deliveryId, clock())) {
          try {
            await ctx.alerts.act(alert.id, 'acknowledge', target.userName, 'acknowledged from the notification link', { says: { key: 'ack.by', how: 'link' } })
          } catch (err) {
            // Someone acknowledged or resolved it in the meantime: the page below says who.
            if (!(err instanceof AppError && err.code === 'invalid_transition')) throw err
          }
        }
        // Post/redirect/get: the page then shows what happened, and a reload posts nothing.
        if (wantsHtml(req)) return reply.redirect(`/n/${req.params.token}`, 303)
        const now = (await getAlert(db, alert.id)) ?? alert
        if (now.acknowledgedBy !== target.userName) throw new AppError('invalid_transition', `Alert ${alert.id} is ${now.state.replace('_', ' ')}${now.acknowledgedBy ? `, acknowledged by ${now.acknowledgedBy}` : ''}`)
        return { alertId: now.id, state: now.state, acknowledgedBy: now.acknowledgedBy }
      }
      // Nothing to do: the page says plainly why (resolved, acknowledged by someone, used).
      const status = notice.kind === 'done' ? 200 : notice.kind === 'used' ? 410 : 409
      if (wantsHtml(req)) return show(req, reply, target, alert, status)
      if (target.usedAt !== null) throw new AppError('link_expired', 'This link has been used already')
      if (notice.kind === 'done') return { alertId: alert.id, state: alert.state, acknowledgedBy: alert.acknowledgedBy }
      throw new AppError('invalid_transition', `Alert ${alert.id} is ${alert.state.replace('_', ' ')}${alert.acknowledgedBy ? `, acknowledged by ${alert.acknowledgedBy}` : ''}; nothing to acknowledge`)
    },
  )
}

export default notifyLinks
