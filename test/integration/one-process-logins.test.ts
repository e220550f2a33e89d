// `housing-brain up` holds the broker and the API in one process (cli/up.ts): they check device
// secrets through one login gate with one verified-secret cache, so MQTT_AUTH_MAX_CONCURRENT bounds
// the scrypt checks of both fronts together, a secret proven over HTTP is not checked again at the
// MQTT login (and the reverse), and a rotated secret is refused on both at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer } from '../../cli/stack.ts'
import { loadConfig } from '../../core/config.ts'
import { silentLogger } from '../../core/log.ts'
import { updateDevice } from '../../core/repos/devices.ts'
import { hashSecret } from '../../core/secrets.ts'
import { loginDevice } from '../helpers/mqtt-login.ts'
import { createTestDatabase, eventually, freePort, hasPostgres } from '../helpers/services.ts'
import { startStack, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('one process (up): the broker and the API share the device login gate', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let stack: TestStack
  let api: ApiServer
  let base: string

  beforeAll(async () => {
    tdb = await createTestDatabase()
    stack = await startStack(tdb.url, { MQTT_AUTH_MAX_CONCURRENT: '3' })
    const cfg = loadConfig({ HOST: '127.0.0.1', HTTP_PORT: String(await freePort()), MQTT_AUTH_MAX_CONCURRENT: '3' })
    // As cli/up.ts builds it.
    api = new ApiServer({ db: stack.db, features: { timescale: undefined }, metrics: stack.metrics, ingest: stack.unit.ingest, logins: stack.unit.logins }, cfg, silentLogger)
    await api.start()
    base = `http://127.0.0.1:${api.port}`
  })

  afterAll(async () => {
    await api.stop()
    await stack.stop()
    await tdb.drop()
  })

  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
  const post = (id: string, secret = stack.creds.get(id)?.secret ?? '') =>
    fetch(`${base}/ingest/v1/devices/${id}/telemetry`, { method: 'POST', body: JSON.stringify({ values: id.startsWith('el-') ? { running: true } : { battery_pct: 80 } }), headers: { 'content-type': 'application/json', authorization: basic(id, secret) } })
  const mqttLogin = (id: string, secret = stack.creds.get(id)?.secret ?? '') => loginDevice(stack.url, id, secret)

  it('has one gate, bounded by MQTT_AUTH_MAX_CONCURRENT, for MQTT logins and HTTP posts', () => {
    expect(api.app?.deviceLogins.gate).toBe(stack.unit.logins.gate)
    expect(api.app?.deviceLogins.verified).toBe(stack.unit.logins.verified)
  })

  it('checks a secret once: a device that posted over HTTP logs in over MQTT from the cache, and the reverse', async () => {
    const verified = stack.unit.logins.verified
    const misses = verified.misses
    expect((await post('ft-1')).status).toBe(200)
    expect(verified.misses - misses).toBe(1)
    const hits = verified.hits
    const client = await mqttLogin('ft-1')
    await client.endAsync()
    expect(verified.hits - hits).toBe(1)
    expect(verified.misses - misses).toBe(1)

    const other = await mqttLogin('el-1')
    await other.endAsync()
    const before = verified.hits
    expect((await post('el-1')).status).toBe(200)
    expect(verified.hits - before).toBe(1)
  })

  it("refuses the old secret on both fronts once the device is given a new one", async () => {
    const old = stack.creds.get('mh-1')?.secret ?? ''
    expect((await post('mh-1', old)).status).toBe(200)
    const c = await mqttLogin('mh-1', old)
    await c.endAsync()
    await updateDevice(stack.db, 'mh-1', { secretHash: await hashSecret('the-new-secret-of-mh-1') })
    await eventually(async () => {
      try {
        const again = await mqttLogin('mh-1', old)
        await again.endAsync()
        return undefined
      } catch (err) {
        return /bad username or password/i.test(String(err)) ? true : undefined
      }
    }, 10_000, 'the old secret refused over MQTT')
    expect((await post('mh-1', old)).status).toBe(401)
    expect((await post('mh-1', 'the-new-secret-of-mh-1')).status).toBe(200)
    const fresh = await mqttLogin('mh-1', 'the-new-secret-of-mh-1')
    await fresh.endAsync()
  })
})
