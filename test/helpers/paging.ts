// Paging a company's on-call crew member by SMS, the real way: an sms_http channel to a local
// gateway, a crew rota and a phone set up through the API, and the notification dispatcher
// running with the API's own link key, so the link in the SMS opens on that API. For the tests of
// the link page (test/integration/notify-links.test.ts, test/console/link-page.test.ts). The
// gateway is on 127.0.0.2, the allow-list of a deployment with one intranet gateway: the app under
// test is built with ALLOW_GATEWAY (test/helpers/egress.ts).
import type { AlertService } from '../../alerts/service.ts'
import type { App } from '../../api/app.ts'
import type { Db } from '../../core/db/client.ts'
import { silentLogger } from '../../core/log.ts'
import { DEFAULT_NOTIFY_DISPATCH } from '../../notify/dispatcher.ts'
import { Notifications } from '../../notify/notifications.ts'
import { eventually } from './services.ts'
import { ALLOW_GATEWAY, GATEWAY_HOST } from './egress.ts'
import { SmsGateway } from './sms-gateway.ts'

export interface Paging {
  gateway: SmsGateway
  /** The path (/n/…) of the link in the SMS number `after` (from 0) to `phone`, once it has arrived. */
  linkTo(phone: string, after?: number): Promise<string>
  stop(): Promise<void>
}

/** Pages `member` (on call for `companyId`, reachable at `phone`) for every alert of the company. */
export async function startPaging(
  db: Db,
  app: App,
  alerts: AlertService,
  admin: { authorization: string },
  on: { companyId: string; member: string; phone: string; linkBaseUrl: string },
  clock: () => Date = () => new Date(),
): Promise<Paging> {
  const gateway = new SmsGateway(GATEWAY_HOST)
  await gateway.start()
  const ok = async (res: Promise<{ statusCode: number; body: string }>) => {
    const r = await res
    if (r.statusCode >= 300) throw new Error(`setting up paging: ${r.statusCode} ${r.body}`)
  }
  const startsOn = new Date(clock().getTime() - 7 * 86_400_000).toISOString().slice(0, 10)
  await ok(app.inject({ method: 'POST', url: '/api/v1/notify/channels', headers: admin, payload: { kind: 'sms_http', name: 'SMS', companyId: on.companyId, settings: { url: gateway.url() } } }))
  await ok(app.inject({ method: 'PUT', url: `/api/v1/rotas/${on.companyId}-crew`, headers: admin, payload: { companyId: on.companyId, role: 'crew', name: 'Crew', startsOn, members: [on.member] } }))
  await ok(app.inject({ method: 'POST', url: `/api/v1/users/${on.member}/contact-points`, headers: admin, payload: { kind: 'phone', address: on.phone } }))
  const key = app.deps.notify?.secretKey
  if (!key) throw new Error('the API has no notification context')
  const notifications = new Notifications(db, alerts, key, { ...DEFAULT_NOTIFY_DISPATCH, destinations: ALLOW_GATEWAY, pollMs: 50, linkBaseUrl: on.linkBaseUrl, linkTtlMs: 86_400_000 }, silentLogger, clock)
  await notifications.start()
  const base = on.linkBaseUrl.replace(/\/+$/, '')
  return {
    gateway,
    async linkTo(phone, after = 0) {
      const sms = await eventually(() => gateway.to(phone)[after], 10_000, `SMS ${after + 1} to ${phone}`)
      const link = sms.text.split(/\s+/).find((w) => w.startsWith(`${base}/n/`))
      if (!link) throw new Error(`no link in "${sms.text}"`)
      return link.slice(base.length)
    },
    async stop() {
      await notifications.stop()
      await gateway.stop()
    },
  }
}
