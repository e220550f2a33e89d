// `housing-brain broker` as a child process for the cluster suite: a real process on a free port,
// on a test database and a Redis of the test's choosing, killed for real (SIGKILL: no Will sent,
// no session closed, nothing flushed — as when a machine is lost).
import type { ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { startService } from './service-process.ts'
import { REDIS_URL, freePort } from './services.ts'

export interface BrokerProcess {
  child: ChildProcess
  port: number
  url: string
  output(): string
  kill9(): Promise<void>
  /** SIGTERM and waits for the exit. */
  stop(): Promise<void>
}

export async function startBrokerProcess(env: { DATABASE_URL: string; REDIS_URL: string } & Record<string, string>): Promise<BrokerProcess> {
  const port = await freePort()
  const p = await startService('broker', { MQTT_PORT: String(port), ...env }, 'broker listening')
  return {
    child: p.child,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    output: () => p.output(),
    kill9: () => p.kill9(),
    stop: async () => {
      await p.terminate()
    },
  }
}

/**
 * Removes what a run left in the shared Redis — sessions, Wills, retained messages — by the tag
 * its device and client ids carry (Redis pub/sub ignores the database number, so runs share one).
 */
export async function clearRedisTag(tag: string): Promise<void> {
  const redis = new Redis(REDIS_URL)
  try {
    const keys = await redis.keys(`*${tag}*`)
    if (keys.length > 0) await redis.del(...keys)
    const retained = (await redis.hkeys('retained')).filter((t) => t.includes(tag))
    if (retained.length > 0) await redis.hdel('retained', ...retained)
  } finally {
    redis.disconnect()
  }
}
