// The link in a message: `/n/<token>` (notify/links.ts). Opening it shows the alert — nothing
// changes on a GET, because chat apps and mail scanners fetch links to preview them. The page's
// button POSTs back: a link sent to a person (its scope) acknowledges as that person, once,
// before it expires; a link posted to a group chat names nobody, so it only leads to the
// console, where acknowledging needs a sign-in. The pages are outside /api: the link is the
// credential, no bearer token is involved.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { notifyOf } from '../plugins/deps.ts'
import { AppError } from '../../core/errors.ts'
import { getAlert, type Alert } from '../../core/repos/alerts.ts'
import { linkTarget, useLink, type LinkTarget } from '../../core/repos/notify-deliveries.ts'

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function page(title: string, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(title)}</title></head><body style="font:16px system-ui;margin:1.5em">${body}</body></html>`
}

const tokenParams = z.object({ token: z.string().max(40) })
const CONSOLE = (alertId: number) => `/console/#/alerts/${alertId}`

const notifyLinks: FastifyPluginAsyncZod = async (app) => {
  const ctx = notifyOf(app)
  const db = app.deps.db
  const clock = ctx.clock

  async function resolve(token: string): Promise<{ target: LinkTarget; alert: Alert }> {
    const id = ctx.links.verify(token)
    const target = id === undefined ? undefined : await linkTarget(db, id)
    const alert = target ? await getAlert(db, target.alertId) : undefined
    if (!target || !alert) throw new AppError('not_found', 'This link is not valid')
    if (target.expiresAt <= clock()) throw new AppError('link_expired')
    return { target, alert }
  }

  app.get(
    '/n/:token',
    { schema: { hide: true, params: tokenParams } },
    async (req, reply) => {
      const { target, alert } = await resolve(req.params.token)
      const canAck = target.userId !== null && target.usedAt === null && alert.state === 'open'
      const action = canAck
        ? `<form method="post"><button style="font-size:1.2em;padding:.5em 1.5em">确认 / Acknowledge</button></form>`
        : `<p><a href="${CONSOLE(alert.id)}">在控制台打开 / Open in the console</a></p>`
      return reply
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .type('text/html; charset=utf-8')
        .send(page(alert.title, `<h1>${esc(alert.title)}</h1><p>${esc(alert.severity)} · ${esc(alert.state)} · #${alert.id}</p>${action}`))
    },
  )

  app.post(
    '/n/:token',
    { schema: { hide: true, params: tokenParams } },
    async (req, reply) => {
      const { target, alert } = await resolve(req.params.token)
      // A group-chat link names nobody: acknowledging needs a sign-in in the console.
      if (target.userId === null || target.userName === null) return reply.redirect(CONSOLE(alert.id), 303)
      if (!(await useLink(db, target.deliveryId, clock()))) throw new AppError('link_expired', 'This link has been used already')
      if (alert.state === 'open') await ctx.alerts.act(alert.id, 'acknowledge', target.userName, 'acknowledged from the notification link')
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page(alert.title, `<h1>${esc(alert.title)}</h1><p>已确认 / Acknowledged</p>`))
    },
  )
}

export default notifyLinks
