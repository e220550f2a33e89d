// RabbitMQ's HTTP auth backend questions, answered in-process (app.inject) over the embedded
// database: the login, vhost, resource and topic decisions, GET and form POST, and the key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import type { DeviceCredential } from '../../core/provision.ts'
import { apiFor } from '../helpers/api.ts'
import { seed } from '../helpers/stack.ts'

const KEY = 'k'.repeat(32)
const base = `/rabbitmq/auth/${KEY}`

let db: Db
let app: App
let creds: Map<string, DeviceCredential>

beforeAll(async () => {
  db = await openDb({})
  const features = await migrate(db, { log: silentLogger })
  creds = await seed(db)
  ;({ app } = await apiFor(db, features, { rabbitmqAuth: { key: KEY, vhost: '/', exchange: 'amq.topic', maxConcurrent: 4 } }))
})

afterAll(async () => {
  await app.close()
  await db.close()
})

function secretOf(id: string): string {
  const c = creds.get(id)
  if (!c) throw new Error(`no device ${id}`)
  return c.secret
}

/** Asks as RabbitMQ does with `auth_http.http_method = post`: a form body. */
async function post(path: string, form: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await app.inject({
    method: 'POST',
    url: `${base}/${path}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form).toString(),
  })
  return { status: res.statusCode, body: res.body }
}

/** Asks as RabbitMQ does by default: a GET query. */
async function get(path: string, form: Record<string, string>): Promise<string> {
  const res = await app.inject({ method: 'GET', url: `${base}/${path}?${new URLSearchParams(form).toString()}` })
  expect(res.statusCode).toBe(200)
  expect(res.headers['content-type']).toMatch(/^text\/plain/)
  return res.body
}

const topic = (username: string, permission: string, routingKey: string, clientId = username) =>
  post('topic', { username, vhost: '/', resource: 'topic', name: 'amq.topic', permission, routing_key: routingKey, 'variable_map.client_id': clientId, 'variable_map.username': username, 'variable_map.vhost': '/' }).then((r) => r.body)
const resource = (username: string, kind: string, name: string, permission: string, vhost = '/') =>
  post('resource', { username, vhost, resource: kind, name, permission, tags: '' }).then((r) => r.body)

describe('RabbitMQ HTTP auth backend', () => {
  it('lets a device log in with its secret and refuses a wrong one, an unknown device and a service token', async () => {
    expect(await post('user', { username: 'mh-1', password: secretOf('mh-1'), vhost: '/', client_id: 'mh-1' })).toEqual({ status: 200, body: 'allow' })
    expect(await get('user', { username: 'mh-1', password: secretOf('mh-1') })).toBe('allow')
    expect((await post('user', { username: 'mh-1', password: 'wrong', vhost: '/', client_id: 'mh-1' })).body).toBe('deny')
    expect((await post('user', { username: 'nobody', password: 'x', vhost: '/' })).body).toBe('deny')
    expect((await post('user', { username: 'token', password: 'x', vhost: '/' })).body).toBe('deny')
  })

  it('refuses a login under another identity’s client id or on another vhost before checking the secret', async () => {
    expect((await post('user', { username: 'mh-1', password: secretOf('mh-1'), vhost: '/', client_id: 'mh-2' })).body).toBe('deny')
    expect((await post('user', { username: 'mh-1', password: secretOf('mh-1'), vhost: '/', client_id: 'mh-1/backup' })).body).toBe('allow')
    expect((await post('user', { username: 'mh-1', password: secretOf('mh-1'), vhost: 'other' })).body).toBe('deny')
  })

  it('allows the configured vhost only, to known devices only', async () => {
    expect(await get('vhost', { username: 'mh-1', vhost: '/', ip: '10.0.0.1' })).toBe('allow')
    expect(await get('vhost', { username: 'mh-1', vhost: 'other', ip: '10.0.0.1' })).toBe('deny')
    expect(await get('vhost', { username: 'nobody', vhost: '/', ip: '10.0.0.1' })).toBe('deny')
  })

  it('allows publishing to and binding from the device exchange and the device’s own subscription queues only', async () => {
    expect(await resource('mh-1', 'exchange', 'amq.topic', 'write')).toBe('allow')
    expect(await resource('mh-1', 'exchange', 'amq.topic', 'read')).toBe('allow')
    expect(await resource('mh-1', 'exchange', 'amq.topic', 'configure')).toBe('deny')
    expect(await resource('mh-1', 'exchange', 'amq.direct', 'write')).toBe('deny')
    expect(await resource('mh-1', 'exchange', 'amq.topic', 'write', 'other')).toBe('deny')
    for (const permission of ['configure', 'write', 'read']) {
      expect(await resource('mh-1', 'queue', 'mqtt-subscription-mh-1qos1', permission)).toBe('allow')
    }
    expect(await resource('mh-1', 'queue', 'mqtt-subscription-mh-2qos1', 'read')).toBe('deny')
    expect(await resource('mh-1', 'queue', 'hb.telemetry', 'read')).toBe('deny')
  })

  it('lets a device publish its own telemetry and status only, with the routing key turned back into the MQTT topic', async () => {
    expect(await topic('mh-1', 'write', 'hb.v1.devices.mh-1.telemetry')).toBe('allow')
    expect(await topic('mh-1', 'write', 'hb.v1.devices.mh-1.status')).toBe('allow')
    expect(await topic('mh-1', 'write', 'hb.v1.devices.mh-2.telemetry')).toBe('deny')
    expect(await topic('mh-1', 'write', 'hb.v1.devices.mh-1.other')).toBe('deny')
    expect(await topic('mh-1', 'write', 'hb.v1.devices.mh-1.telemetry', 'mh-2')).toBe('deny')
  })

  it('lets a gateway publish for its registered children and under its own gateway topic, not for others', async () => {
    expect(await topic('gw-1', 'write', 'hb.v1.gateways.gw-1.telemetry')).toBe('allow')
    expect(await topic('gw-1', 'write', 'hb.v1.devices.mh-2.status')).toBe('allow')
    expect(await topic('gw-1', 'write', 'hb.v1.devices.mh-1.status')).toBe('deny')
    expect(await topic('mh-1', 'write', 'hb.v1.gateways.gw-1.telemetry')).toBe('deny')
  })

  it('lets a device subscribe under its own prefix only, never with a wildcard above its id', async () => {
    expect(await topic('mh-1', 'read', 'hb.v1.devices.mh-1.#')).toBe('allow')
    expect(await topic('mh-1', 'read', 'hb.v1.devices.*.telemetry')).toBe('deny')
    expect(await topic('mh-1', 'read', 'hb.v1.#')).toBe('deny')
    expect(await topic('mh-1', 'read', 'hb.v1.devices.mh-2.#')).toBe('deny')
  })

  it('is not served without the key, and refuses a malformed question', async () => {
    const wrong = await app.inject({ method: 'GET', url: `/rabbitmq/auth/${'x'.repeat(32)}/user?username=mh-1&password=${secretOf('mh-1')}` })
    expect(wrong.statusCode).toBe(404)
    expect(wrong.json()).toMatchObject({ code: 'route_not_found' })
    expect((await post('topic', { username: 'mh-1' })).body).toBe('deny')
  })
})
