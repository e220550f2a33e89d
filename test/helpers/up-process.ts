// `housing-brain up` as a child process for the chaos suite: started on free ports with a data
// directory of the test's own, killed for real (`kill -9` is SIGKILL to the process itself, not a
// shutdown), restarted on the same directory. The API is reached with the admin token `up` writes
// to `$DATA_DIR/admin-token`; fleet devices are registered through it, so the demo simulator that
// `up` runs never publishes on them.
import type { ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { MqttClient } from 'mqtt'
import { loginDevice } from './mqtt-login.ts'
import { eventually, freePort } from './services.ts'
import { spawnCli } from './service-process.ts'

/** The demo community `up` provisions; fleet devices are registered into it. */
export const DEMO_COMMUNITY = 'cm-gumei'

export interface UpProcess {
  child: ChildProcess
  pid: number
  httpPort: number
  mqttPort: number
  token: string
  /** Settles with the exit code (null when killed by a signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Everything written to stdout and stderr so far. */
  output(): string
  /** Resident set size in bytes from /proc, or undefined once the process is gone. */
  rss(): Promise<number | undefined>
  /** One API request with the admin token; the body is the parsed JSON answer. */
  api(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: unknown }>
  /** The value of one sample of the Prometheus text on /metrics (summed over its labels). */
  metric(name: string): Promise<number | undefined>
  connect(deviceId: string, secret: string): Promise<MqttClient>
  /** SIGKILL, then waits for the exit. */
  kill9(): Promise<void>
  /** SIGINT (Ctrl-C) and waits for the exit; resolves with the exit code. */
  interrupt(): Promise<number | null>
}

/** Starts `up` and resolves once it printed its banner; fails with its output if it exits first. */
export async function startUp(dataDir: string, env: Record<string, string> = {}, args: readonly string[] = ['--rate', '0.2']): Promise<UpProcess> {
  const [httpPort, mqttPort] = [await freePort(), await freePort()]
  const { child, exited, output } = spawnCli(['up', ...args], { DATA_DIR: dataDir, HTTP_PORT: String(httpPort), MQTT_PORT: String(mqttPort), LOG_LEVEL: 'warn', ...env })
  const pid = child.pid ?? 0
  const clients: MqttClient[] = []
  let gone = false
  void exited.then(() => {
    gone = true
    for (const c of clients) c.end(true)
  })
  try {
    await eventually(() => {
      if (gone) throw new Error(`housing-brain up exited before it was up:\n${output().slice(-4000)}`)
      return output().includes('housing-brain is up') ? true : undefined
    }, 90_000, 'the banner of housing-brain up')
  } catch (err) {
    child.kill('SIGKILL')
    await exited
    throw err
  }
  const token = (await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim()
  const base = `http://127.0.0.1:${httpPort}`
  const proc: UpProcess = {
    child,
    pid,
    httpPort,
    mqttPort,
    token,
    exited,
    output,
    async rss() {
      if (gone) return undefined
      try {
        const status = await readFile(`/proc/${pid}/status`, 'utf8')
        const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]
        return kb === undefined ? undefined : Number(kb) * 1024
      } catch {
        return undefined
      }
    },
    async api(method: string, urlPath: string, body?: unknown) {
      const res = await fetch(`${base}${urlPath}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      })
      return { status: res.status, body: await res.json() }
    },
    async metric(name: string) {
      const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) })
      const text = await res.text()
      let sum: number | undefined
      for (const line of text.split('\n')) {
        const m = /^(\w+)(?:\{[^}]*\})? (\S+)$/.exec(line)
        if (m?.[1] === name) sum = (sum ?? 0) + Number(m[2])
      }
      return sum
    },
    async connect(deviceId: string, secret: string) {
      // A busy machine and a database catching up after a restart can make a login slow.
      const client = await loginDevice(`mqtt://127.0.0.1:${mqttPort}`, deviceId, secret, { connectTimeout: 60_000 })
      // A dead server is an expected end in this suite; the publisher notices the close.
      client.on('error', () => undefined)
      clients.push(client)
      return client
    },
    async kill9() {
      if (!gone) child.kill('SIGKILL')
      await exited
    },
    async interrupt() {
      if (!gone) child.kill('SIGINT')
      return (await exited).code
    },
  }
  return proc
}

/** Registers elevators `ids` in the demo community through the API; returns their secrets. */
export async function registerElevators(up: UpProcess, ids: readonly string[]): Promise<Map<string, string>> {
  const secrets = new Map<string, string>()
  for (const id of ids) {
    const res = await up.api('POST', '/api/v1/devices', { id, kind: 'elevator', communityId: DEMO_COMMUNITY })
    const secret = (res.body as { secret?: string }).secret
    if (res.status !== 201 || !secret) throw new Error(`registering ${id}: HTTP ${res.status} ${JSON.stringify(res.body)}`)
    secrets.set(id, secret)
  }
  return secrets
}

/** Every stored `ts` (epoch ms) of one device's metric in [from, to), through the API. */
export async function storedTimestamps(up: UpProcess, deviceId: string, metric: string, from: number, to: number): Promise<number[]> {
  const out: number[] = []
  let cursor = from
  // The API returns at most 10,000 raw points per request, in time order: page by time.
  for (;;) {
    const q = new URLSearchParams({ metric, from: new Date(cursor).toISOString(), to: new Date(to).toISOString(), limit: '10000' })
    const res = await up.api('GET', `/api/v1/devices/${deviceId}/readings?${q.toString()}`)
    const points = (res.body as { points?: { ts: string }[] }).points
    if (res.status !== 200 || !points) throw new Error(`readings of ${deviceId}: HTTP ${res.status} ${JSON.stringify(res.body)}`)
    const page = points.map((p) => Date.parse(p.ts))
    out.push(...page)
    const last = page.at(-1)
    if (page.length < 10_000 || last === undefined) return out
    cursor = last + 1
  }
}
