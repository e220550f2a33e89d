// RabbitMQ's HTTP auth backend (rabbitmq_auth_backend_http 3.10): RabbitMQ asks here whether a
// device may log in, use the vhost, an exchange or queue, and a topic; the answer is the text
// `allow` or `deny`. The questions arrive as a GET query (the plugin's default) or a form-encoded
// POST (`auth_http.http_method = post`).
//
// The same device login as the Aedes broker (intake/device-login/: scrypt secrets, failure
// throttle, bounded password checks, the API's verified-secret cache) and the same ACL
// (intake/acl.ts through intake/rabbitmq-acl.ts).
// Only devices log in here: RabbitMQ lists its internal backend first, so its own users (the
// AMQP ingest workers, operators) never reach this endpoint.
//
// Not open to the world: every path carries a shared key (RABBITMQ_AUTH_KEY, also written in
// RabbitMQ's `auth_http.*_path`), compared in constant time; a wrong key is "no such route". A
// key in the URL rather than a source-address list, because the API may sit behind a proxy and
// RabbitMQ nodes come and go; keep the URLs out of logs (RabbitMQ logs them at debug level only).
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { z } from 'zod'
import type { Db } from '../../core/db/client.ts'
import { DeviceDirectory } from '../../core/device-directory.ts'
import { AppError } from '../../core/errors.ts'
import type { Metrics } from '../../core/metrics.ts'
import { decideClientId } from '../acl.ts'
import { newDeviceLoginGate, SERVICE_USERNAME } from '../device-login/index.ts'
import { decideResource, decideTopic, decideVhost, type Decision } from '../rabbitmq-acl.ts'
import { sameSecret } from './wire.ts'

/** What both sides are configured with (RABBITMQ_AUTH_KEY, RABBITMQ_MQTT_VHOST, RABBITMQ_MQTT_EXCHANGE). */
export interface RabbitAuthSettings {
  key: string
  vhost: string
  exchange: string
  /** Password checks at once (MQTT_AUTH_MAX_CONCURRENT); RabbitMQ does not tell the device's address. */
  maxConcurrent: number
}

// RabbitMQ's parameters; strings bounded so a question stays small.
const text = z.string().max(1024)
const userForm = z.object({ username: text, password: text, vhost: text.optional(), client_id: text.optional() })
const vhostForm = z.object({ username: text, vhost: text, ip: text.optional() })
const resourceForm = z.object({ username: text, vhost: text, resource: text, name: text, permission: text })
const topicForm = resourceForm.extend({ routing_key: text, 'variable_map.client_id': text.optional() })

export interface RabbitAuthOptions {
  db: Db
  metrics: Metrics
  settings: RabbitAuthSettings
}

const rabbitmqAuth: FastifyPluginAsync<RabbitAuthOptions> = async (app, { db, metrics, settings }) => {
  const scope = { vhost: settings.vhost, exchange: settings.exchange }
  // Its own bound (RabbitMQ does not tell the address), the API's verified-secret cache: a device
  // reconnecting is not checked by scrypt again, and a rotated secret is forgotten at once.
  const logins = newDeviceLoginGate(db, { maxConcurrent: settings.maxConcurrent, maxConcurrentPerAddress: settings.maxConcurrent }, () => metrics.loginsHeld.inc(), app.deviceLogins.verified)
  // A short life, so a device disabled in the registry loses its topics within seconds.
  const directory = new DeviceDirectory(db, { ttlMs: 10_000, negativeTtlMs: 5_000 })
  const log = app.log.child({ module: 'rabbitmq-auth' })

  // Form bodies for these routes only (the rest of the API speaks JSON).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))))
  })
  app.addHook('onRequest', async (req) => {
    const key = (req.params as { key?: string }).key ?? ''
    if (!sameSecret(settings.key, key)) throw new AppError('route_not_found')
  })

  /** The question's parameters, from the query (GET) or the form (POST); undefined when malformed. */
  function form<T>(schema: z.ZodType<T>, req: { method: string; query: unknown; body: unknown }): T | undefined {
    const parsed = schema.safeParse(req.method === 'GET' ? req.query : req.body)
    return parsed.success ? parsed.data : undefined
  }
  const answer = (reply: FastifyReply, d: Decision) => reply.type('text/plain').send(d.ok ? 'allow' : 'deny')
  const deny = (reason: string): Decision => ({ ok: false, reason })

  /** The device behind `username`, if it exists and is enabled. */
  async function deviceOf(username: string) {
    const info = await directory.get(username)
    if (!info?.enabled) return undefined
    return { type: 'device' as const, deviceId: info.id, kind: info.kind }
  }
  const isChild = async (gatewayId: string, deviceId: string) => (await directory.get(deviceId))?.gatewayId === gatewayId

  const route = { schema: { hide: true } }
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/:key/user',
      ...route,
      handler: async (req, reply) => {
        const f = form(userForm, req)
        if (!f) return answer(reply, deny('malformed question'))
        // Services log in to RabbitMQ as its own users (internal backend), never with API tokens.
        if (f.username === SERVICE_USERNAME) return answer(reply, deny('services use RabbitMQ users'))
        if (f.vhost !== undefined && !decideVhost(scope, f.vhost).ok) return answer(reply, deny('vhost'))
        if (f.client_id !== undefined) {
          // The client id belongs to one identity (acl.ts decideClientId); checked before the scrypt.
          const d = decideClientId({ type: 'device', deviceId: f.username }, f.client_id)
          if (!d.ok) {
            metrics.authFailures.inc({ reason: 'client_id' })
            log.warn({ username: f.username, clientId: f.client_id, reason: d.reason }, 'RabbitMQ login refused: client id of another identity')
            return answer(reply, deny('client id'))
          }
        }
        const result = await logins.login(f.username, Buffer.from(f.password, 'utf8'), { address: undefined, shared: true })
        if (result.ok) return answer(reply, { ok: true })
        metrics.authFailures.inc({ reason: result.reason })
        // The password is never logged, not even its length.
        log.warn({ username: f.username, reason: result.reason }, 'RabbitMQ login refused')
        // Not `deny`: RabbitMQ refuses the login on any other answer, and the device retries.
        if (result.reason === 'busy') return reply.code(503).type('text/plain').send('busy')
        return answer(reply, deny(result.reason))
      },
    })
    app.route({
      method,
      url: '/:key/vhost',
      ...route,
      handler: async (req, reply) => {
        const f = form(vhostForm, req)
        if (!f || !(await deviceOf(f.username))) return answer(reply, deny('unknown device'))
        return answer(reply, decideVhost(scope, f.vhost))
      },
    })
    app.route({
      method,
      url: '/:key/resource',
      ...route,
      handler: async (req, reply) => {
        const f = form(resourceForm, req)
        const device = f && (await deviceOf(f.username))
        if (!f || !device) return answer(reply, deny('unknown device'))
        const d = decideResource(device, scope, f)
        if (!d.ok) log.warn({ username: f.username, resource: f.resource, name: f.name, permission: f.permission, reason: d.reason }, 'RabbitMQ resource refused')
        return answer(reply, d)
      },
    })
    app.route({
      method,
      url: '/:key/topic',
      ...route,
      handler: async (req, reply) => {
        const f = form(topicForm, req)
        const device = f && (await deviceOf(f.username))
        if (!f || !device) return answer(reply, deny('unknown device'))
        const d = await decideTopic(device, scope, { ...f, routingKey: f.routing_key, clientId: f['variable_map.client_id'] }, isChild)
        if (!d.ok) {
          metrics.authFailures.inc({ reason: f.permission === 'write' ? 'publish_acl' : 'subscribe_acl' })
          log.warn({ username: f.username, routingKey: f.routing_key, permission: f.permission, reason: d.reason }, 'RabbitMQ topic refused')
        }
        return answer(reply, d)
      },
    })
  }
}

export default rabbitmqAuth
