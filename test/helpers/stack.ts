// A broker with its ingest on a database of the test's own, devices provisioned, on free ports.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { BrokerWithIngest } from '../../cli/stack.ts'
import { loadConfig, type Config } from '../../core/config.ts'
import { openDb, type Db } from '../../core/db/client.ts'
import { migrate } from '../../core/db/migrate.ts'
import { silentLogger } from '../../core/log.ts'
import { createMetrics, type Metrics } from '../../core/metrics.ts'
import { provisionCommunity, provisionDevices, type DeviceCredential, type DeviceSpec } from '../../core/provision.ts'
import { freePort } from './services.ts'

export const COMMUNITY = 'cm-test'

/** A past limit wide enough for the fixed dates the fixtures publish at. */
export const FIXTURE_PAST_AGE = '36500d'

export const TEST_DEVICES: DeviceSpec[] = [
  { id: 'gw-1', kind: 'gateway', communityId: COMMUNITY },
  { id: 'mh-1', kind: 'manhole', communityId: COMMUNITY },
  { id: 'mh-2', kind: 'manhole', communityId: COMMUNITY, gatewayId: 'gw-1' },
  { id: 'mh-3', kind: 'manhole', communityId: COMMUNITY, gatewayId: 'gw-1' },
  { id: 'ft-1', kind: 'fire_tank', communityId: COMMUNITY },
  { id: 'el-1', kind: 'elevator', communityId: COMMUNITY },
]

export async function seed(db: Db, devices: DeviceSpec[] = TEST_DEVICES): Promise<Map<string, DeviceCredential>> {
  await provisionCommunity(db, { id: 'co-test', name: 'Test Property Co.' }, { id: COMMUNITY, name: 'Test Community' })
  const creds = await provisionDevices(db, devices)
  return new Map(creds.map((c) => [c.id, c]))
}

export interface TestStack {
  db: Db
  cfg: Config
  metrics: Metrics
  unit: BrokerWithIngest
  creds: Map<string, DeviceCredential>
  url: string
  /** The database's connection URL (undefined: the default, e.g. PGlite). */
  dbUrl: string | undefined
  connect(deviceId: string, extra?: IClientOptions): Promise<MqttClient>
  stop(): Promise<void>
}

export async function startStack(dbUrl: string | undefined, env: Record<string, string> = {}): Promise<TestStack> {
  const db = await openDb({ url: dbUrl })
  await migrate(db, { log: silentLogger })
  const creds = await seed(db)
  const port = await freePort()
  // The fixtures publish at fixed dates of 2026; the past limit (INGEST_MAX_PAST_AGE, 7 days by
  // default) would dead-letter them as too_old, so tests widen it unless they test it.
  const cfg = loadConfig({ MQTT_PORT: String(port), HOST: '127.0.0.1', INGEST_MAX_PAST_AGE: FIXTURE_PAST_AGE, ...env })
  const metrics = createMetrics({ defaults: false })
  const unit = new BrokerWithIngest(db, cfg, silentLogger, metrics)
  await unit.start()
  const url = `mqtt://127.0.0.1:${port}`
  const clients: MqttClient[] = []
  return {
    db,
    cfg,
    metrics,
    unit,
    creds,
    url,
    dbUrl,
    async connect(deviceId, extra = {}) {
      const cred = creds.get(deviceId)
      const client = await mqtt.connectAsync(url, {
        clientId: deviceId,
        username: deviceId,
        password: cred?.secret ?? '',
        reconnectPeriod: 0,
        ...extra,
      })
      clients.push(client)
      return client
    },
    async stop() {
      await Promise.all(clients.map((c) => c.endAsync(true)))
      await unit.stop()
      await db.close()
    },
  }
}
