// Node-RED started for real with the shipped flow: it reads the commit-ordered feed from the API
// (GET /api/v1/feed, a long poll) with a service token and raises (and clears) an alert through
// the API, as a second alert producer — for a reading over MQTT and one over the HTTP device API.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer } from '../../cli/stack.ts'
import { loadConfig } from '../../core/config.ts'
import { topics } from '../../core/contract.ts'
import { silentLogger } from '../../core/log.ts'
import { createTestDatabase, eventually, freePort, hasPostgres } from '../helpers/services.ts'
import { startStack, type TestStack } from '../helpers/stack.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/housing-brain.js')
const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('Node-RED as an alert producer', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let stack: TestStack
  let api: ApiServer
  let child: ChildProcess
  let dataDir: string
  let output = ''
  let editor = ''

  beforeAll(async () => {
    tdb = await createTestDatabase()
    stack = await startStack(tdb.url)
    api = new ApiServer({ db: stack.db, features: { timescale: undefined }, metrics: stack.metrics }, loadConfig({ HOST: '127.0.0.1', HTTP_PORT: String(await freePort()) }), silentLogger)
    await api.start()
    dataDir = await mkdtemp(path.join(tmpdir(), 'hb-nodered-'))
    const nodeRedPort = await freePort()
    editor = `http://127.0.0.1:${nodeRedPort}`
    const proc = spawn(process.execPath, [BIN, 'node-red'], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: tdb.url,
        DATA_DIR: dataDir,
        MQTT_URL: stack.url,
        API_URL: `http://127.0.0.1:${api.port ?? 0}`,
        NODE_RED_PORT: String(nodeRedPort),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()))
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child = proc
    await eventually(
      async () => ((await fetch(`http://127.0.0.1:${nodeRedPort}/`).catch(() => undefined))?.ok ? true : undefined),
      60_000,
      `the Node-RED editor (output: ${output})`,
    )
  }, 90_000)

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
    await api.stop()
    await stack.stop()
    await tdb.drop()
    await rm(dataDir, { recursive: true, force: true })
  })

  const overloadAlert = async () =>
    (await stack.db.query<{ source: string; severity: string; condition: string; last_value: number; title: string }>(
      "SELECT source, severity, condition, last_value, title FROM alerts WHERE rule_id = 'node-red:elevator-overload' AND device_id = 'el-1'",
    ))[0]

  it('raises an alert from a flow, and clears it', { timeout: 60_000 }, async () => {
    const device = await stack.connect('el-1')
    // Until the flow's first feed request is in place (it starts at the newest), readings pass it by: keep publishing.
    const alert = await eventually(
      async () => {
        await device.publishAsync(topics.deviceTelemetry('el-1'), JSON.stringify({ values: { car_load_kg: 1850 } }), { qos: 1 })
        return overloadAlert()
      },
      30_000,
      `the Node-RED alert (output: ${output})`,
    )
    expect(alert).toMatchObject({ source: 'node-red', severity: 'major', condition: 'active', last_value: 1850, title: 'Elevator overloaded (Node-RED)' })
    // The clear comes another way in: the HTTP device API of the API process. The flow reads it from the same feed.
    const secret = stack.creds.get('el-1')?.secret ?? ''
    const posted = await fetch(`http://127.0.0.1:${api.port ?? 0}/ingest/v1/devices/el-1/telemetry`, {
      method: 'POST',
      body: JSON.stringify({ values: { car_load_kg: 420 } }),
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`el-1:${secret}`).toString('base64')}` },
    })
    expect(posted.status).toBe(200)
    await eventually(async () => ((await overloadAlert())?.condition === 'cleared' ? true : undefined), 30_000, `the cleared condition (output: ${output})`)
  })

  it('asks for a login to the editor by default: a generated password, printed once, kept only as a bcrypt hash', async () => {
    // The admin API the editor deploys through refuses without a login.
    const anonymous = await fetch(`${editor}/flows`)
    expect(anonymous.status).toBe(401)
    const password = /password (\S+)/.exec(output)?.[1] ?? ''
    expect(password).not.toBe('')
    const stored = await readFile(path.join(dataDir, 'node-red-admin-hash'), 'utf8')
    expect(stored).toMatch(/^\$2[aby]\$10\$/)
    expect(stored).not.toContain(password)
    const login = async (pw: string) =>
      fetch(`${editor}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'admin', password: pw }),
      })
    expect((await login('wrong-password')).status).toBe(403)
    const granted = await login(password)
    expect(granted.status).toBe(200)
    const { access_token: token } = (await granted.json()) as { access_token: string }
    expect((await fetch(`${editor}/flows`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
  })
})
