// `housing-brain up` as a user runs it: a child process, a fresh data directory, free ports.
// Within 30 s the API shows fresh simulated readings; Ctrl-C (SIGINT) exits 0.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestDatabase, eventually, freePort, hasPostgres } from '../helpers/services.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/housing-brain.js')
const pgUp = await hasPostgres()
const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

async function runUp(extraEnv: Record<string, string>) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hb-up-'))
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
  const [httpPort, mqttPort] = [await freePort(), await freePort()]
  const child = spawn(process.execPath, [BIN, 'up', '--rate', '1'], {
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, HTTP_PORT: String(httpPort), MQTT_PORT: String(mqttPort), LOG_LEVEL: 'warn', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await exited
  })
  return { child, dataDir, httpPort, exited, out: () => stdout, err: () => stderr }
}

async function checkLoop(run: Awaited<ReturnType<typeof runUp>>) {
  const started = Date.now()
  // Generous bounds: these wait for the loop to run, they do not measure it (`npm run bench` does).
  await eventually(() => (run.out().includes('housing-brain is up') ? true : undefined), 75_000, `the banner (stderr: ${run.err()})`)
  const token = (await readFile(path.join(run.dataDir, 'admin-token'), 'utf8')).trim()
  expect(run.out()).toContain(token) // printed once, on first start
  expect((await stat(path.join(run.dataDir, 'admin-token'))).mode & 0o777).toBe(0o600)
  // The built console is served: its page and the script it loads.
  const page = await (await fetch(`http://127.0.0.1:${run.httpPort}/console/`)).text()
  const script = /src="(\/console\/assets\/index-[^"]+\.js)"/.exec(page)?.[1]
  expect(script).toBeDefined()
  expect((await fetch(`http://127.0.0.1:${run.httpPort}${script ?? ''}`)).status).toBe(200)
  const creds = JSON.parse(await readFile(path.join(run.dataDir, 'demo-devices.json'), 'utf8')) as { id: string; kind: string }[]
  expect(creds.filter((c) => c.kind === 'elevator').length).toBeGreaterThanOrEqual(12)
  const elevator = creds.find((c) => c.kind === 'elevator')?.id ?? ''
  const values = await eventually(
    async () => {
      const res = await fetch(`http://127.0.0.1:${run.httpPort}/api/v1/devices/${elevator}/latest`, { headers: { authorization: `Bearer ${token}` } })
      const body = (await res.json()) as { values: { metric: string; ts: string }[] }
      return body.values.length > 0 ? body.values : undefined
    },
    60_000,
    'fresh readings',
  )
  expect(values.map((v) => v.metric)).toContain('speed_mps')
  // Readings of this run, not left over: stamped after the process was started.
  for (const v of values) expect(Date.parse(v.ts)).toBeGreaterThanOrEqual(started - 1000)
  // One process, one registry on the API's port: the ingest's, the API's and the engine's figures.
  const metrics = await (await fetch(`http://127.0.0.1:${run.httpPort}/metrics`)).text()
  expect(Number(/^hb_ingest_readings_stored_total (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0)
  expect(metrics).toMatch(/^hb_http_requests_total\{method="GET",route="\/api\/v1\/devices\/:id\/latest",status="200"\} [1-9]/m)
  for (const name of ['hb_notify_outbox_depth', 'hb_webhook_outbox_depth', 'hb_rules_samples_evaluated_total', 'hb_rules_feed_lag_seconds']) expect(metrics).toContain(`# TYPE ${name} `)
  run.child.kill('SIGINT')
  const code = await run.exited
  // On failure, the end of the log says which unit did not stop or what was thrown.
  expect(code, `exit code; log tail:\n${run.out().split('\n').slice(-25).join('\n')}\nstderr:\n${run.err()}`).toBe(0)
}

describe('housing-brain up', () => {
  it('runs the loop on the embedded database and exits 0 on Ctrl-C', { timeout: 180_000 }, async () => {
    await checkLoop(await runUp({}))
  })

  it.skipIf(!pgUp)('runs the same loop on the PostgreSQL server', { timeout: 180_000 }, async () => {
    const tdb = await createTestDatabase()
    cleanups.push(tdb.drop)
    await checkLoop(await runUp({ DATABASE_URL: tdb.url }))
  })
})
