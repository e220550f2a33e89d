// Points the local RabbitMQ's HTTP auth backend at an API under test. The backend reads its
// paths from the application environment for every request (rabbit_auth_backend_http 3.10), so
// a set_env takes effect at once, without a restart; .ci/rabbitmq lists the backend after the
// internal one, so guest keeps working whatever these point at.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import type { App } from '../../api/app.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import type { DeviceCredential } from '../../core/provision.ts'
import { RabbitManagement, segment } from '../../core/rabbitmq-management.ts'
import { rabbitTopology, setupRabbit, type RabbitTopology } from '../../ingest/rabbitmq-setup.ts'
import { apiFor } from './api.ts'
import { RABBITMQ, createTestDatabase } from './services.ts'
import { seed } from './stack.ts'

const run = promisify(execFile)

export async function pointRabbitAuthAt(baseUrl: string): Promise<void> {
  const sets = ['user', 'vhost', 'resource', 'topic'].map((what) => `ok = application:set_env(rabbitmq_auth_backend_http, ${what}_path, "${baseUrl}/${what}")`)
  await run('rabbitmqctl', ['eval', `${sets.join(', ')}, ok = application:set_env(rabbitmq_auth_backend_http, http_method, post), ok.`])
}

/**
 * The API of a test on a PostgreSQL database of its own (migrated, seeded), listening, with
 * RabbitMQ's HTTP auth backend pointed at it; `close()` stops it and drops the database.
 */
export async function rabbitTier(): Promise<{ db: Db; app: App; creds: Map<string, DeviceCredential>; dbUrl: string; close: () => Promise<void> }> {
  const tdb = await createTestDatabase()
  const db = await openDb({ url: tdb.url })
  const features = await migrate(db, { log: silentLogger })
  const creds = await seed(db)
  const key = randomBytes(24).toString('hex')
  const { app } = await apiFor(db, features, { rabbitmqAuth: { key, vhost: '/', exchange: 'amq.topic', maxConcurrent: 8 } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  await pointRabbitAuthAt(`http://127.0.0.1:${port}/rabbitmq/auth/${key}`)
  return {
    db,
    app,
    creds,
    dbUrl: tdb.url,
    close: async () => {
      await app.close()
      await db.close()
      await tdb.drop()
    },
  }
}

/** The local RabbitMQ's management API, as RABBITMQ_MANAGEMENT_URL gives it to housing-brain. */
export const rabbitManagement = () => new RabbitManagement(RABBITMQ.managementUrl)

/**
 * What `housing-brain rabbitmq setup` declares, for a test's own queue on amq.topic (the same
 * code, in-process); `remove()` deletes the queue and its unroutable queue, which are bound to
 * every device's topics on the node and would otherwise fill forever. The alternate exchange and
 * its policy stay: shared by every queue on amq.topic, and harmless without a queue bound.
 */
export async function setUpRabbitQueue(queue: string): Promise<{ topology: RabbitTopology; remove: () => Promise<void> }> {
  const api = rabbitManagement()
  const topology = rabbitTopology({ vhost: '/', exchange: 'amq.topic', queue })
  await setupRabbit(api, topology)
  return {
    topology,
    remove: async () => {
      for (const q of [topology.queue, topology.unroutableQueue]) await api.send('DELETE', `/queues/${segment('/')}/${segment(q)}`).catch(() => undefined)
    },
  }
}
