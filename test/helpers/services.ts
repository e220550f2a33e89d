// Real services for the integration tests: PostgreSQL on 127.0.0.1:5432, Mosquitto on
// 127.0.0.1:1883, Redis on 127.0.0.1:6379, RabbitMQ on 127.0.0.1:5672 with MQTT on 11883. With
// HB_REQUIRE_SERVICES=1 (set by .ci/run) a missing service fails the run; elsewhere the tests
// that need it are skipped with a visible line.
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import pg from 'pg'
import { isReachable } from '../../core/net.ts'

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test'
export const MOSQUITTO = { host: '127.0.0.1', port: 1883 }
export const REDIS_URL = 'redis://127.0.0.1:6379'

const required = process.env.HB_REQUIRE_SERVICES === '1'

const reachable = (host: string, port: number) => isReachable(host, port)

/** True when the service answers; false (with a printed line) when it may be skipped; throws in CI. */
export async function serviceAvailable(name: string, host: string, port: number): Promise<boolean> {
  if (await reachable(host, port)) return true
  const line = `${name} is not reachable on ${host}:${port}`
  if (required) throw new Error(`${line} and HB_REQUIRE_SERVICES=1: start it (see README, "Testing")`)
  console.warn(`SKIP: ${line}; the tests that need it are skipped`)
  return false
}

export const hasPostgres = () => serviceAvailable('PostgreSQL', '127.0.0.1', 5432)
export const hasMosquitto = () => serviceAvailable('Mosquitto', MOSQUITTO.host, MOSQUITTO.port)
export const hasRedis = () => serviceAvailable('Redis', '127.0.0.1', 6379)
/**
 * RabbitMQ's AMQP port, its MQTT plugin's listener (.ci/rabbitmq moves it to 11883, off Mosquitto's
 * port) and its management API (which declares and checks the queues: `housing-brain rabbitmq setup`).
 */
export const RABBITMQ = { amqpUrl: 'amqp://guest:guest@127.0.0.1:5672', mqttUrl: 'mqtt://127.0.0.1:11883', managementUrl: 'http://guest:guest@127.0.0.1:15672' }
export const hasRabbitMq = async () =>
  (await serviceAvailable('RabbitMQ', '127.0.0.1', 5672)) &&
  (await serviceAvailable('RabbitMQ MQTT (run .ci/rabbitmq)', '127.0.0.1', 11883)) &&
  (await serviceAvailable('RabbitMQ management API (run .ci/rabbitmq)', '127.0.0.1', 15672))

/** A database of its own for one test file on the real server; `drop()` removes it. */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `hb_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  return {
    name,
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL })
      await c.connect()
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await c.end()
      }
    },
  }
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The databases a test file runs on: always the embedded one, PostgreSQL when it answers. */
export const dbTargets = async () => [['embedded', false], ...((await hasPostgres()) ? [['PostgreSQL', true] as const] : [])] as const

/**
 * Before a describe.each(await dbTargets()) block: `setUp` with a fresh database of the target (undefined:
 * the embedded one); after it, `tearDown`, then the database is dropped.
 */
export function onTarget(postgres: boolean, setUp: (url: string | undefined) => Promise<void>, tearDown: () => Promise<void>, hooks: { beforeAll: (fn: () => Promise<void>) => void; afterAll: (fn: () => Promise<void>) => void }): void {
  let drop: (() => Promise<void>) | undefined
  hooks.beforeAll(async () => {
    const tdb = postgres ? await createTestDatabase() : undefined
    drop = tdb?.drop
    await setUp(tdb?.url)
  })
  hooks.afterAll(async () => {
    await tearDown()
    await drop?.()
  })
}
