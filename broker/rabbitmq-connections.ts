// A device disabled or given a new secret loses its live RabbitMQ connections at once, as it does
// on the Aedes broker (cli/stack.ts). RabbitMQ asks housing-brain (its HTTP auth backend) only at
// login, and its MQTT plugin caches topic decisions per connection, so without this a connection
// opened before the change would go on publishing until the device reconnects by itself. The
// change is announced on DEVICE_CHANGED_CHANNEL (by whichever API process made it); every process
// that runs this unit asks RabbitMQ's management HTTP API to close the connections of that user
// (`DELETE /api/connections/username/{name}`, rabbitmq_management ≥ 3.8): closing twice is
// harmless. The device's next login is refused by the auth backend (no rabbitmq_auth_backend_cache
// in front of it: with one, a refusal could take up to its TTL).
import type { Config } from '../core/config.ts'
import type { Db } from '../core/db/client.ts'
import type { Logger } from '../core/log.ts'
import { RabbitManagement, segment } from '../core/rabbitmq-management.ts'
import { DEVICE_CHANGED_CHANNEL } from '../core/repos/devices.ts'
import type { Unit } from '../core/units.ts'

export interface RabbitConnectionsOptions {
  /** The management API, e.g. http://user:pass@rabbit:15672 (the user needs the `administrator` or `monitoring`+policy tag to close others' connections). */
  managementUrl: string
}

/** The unit for the `rabbitmq` section: none without RABBITMQ_MANAGEMENT_URL (connections then stay open until the device reconnects). */
export function rabbitDeviceConnections(db: Db, cfg: Pick<Config['rabbitmq'], 'managementUrl'>, log: Logger): RabbitDeviceConnections[] {
  const { managementUrl } = cfg
  return managementUrl === undefined ? [] : [new RabbitDeviceConnections(db, { managementUrl }, log.child({ module: 'rabbitmq' }))]
}

export class RabbitDeviceConnections implements Unit {
  readonly name = 'rabbitmq-connections'
  private unlisten: (() => Promise<void>) | undefined
  private readonly api: RabbitManagement

  constructor(
    private readonly db: Db,
    opts: RabbitConnectionsOptions,
    private readonly log: Logger,
  ) {
    this.api = new RabbitManagement(opts.managementUrl)
  }

  async start(): Promise<void> {
    this.unlisten = await this.db.listen(DEVICE_CHANGED_CHANNEL, (payload) => {
      let change: { id?: unknown; credentials?: unknown }
      try {
        change = JSON.parse(payload) as typeof change
      } catch {
        return // not one of ours
      }
      if (change.credentials === true && typeof change.id === 'string') void this.close(change.id)
    })
  }

  /** Closes every RabbitMQ connection of the device (its MQTT username is its id). */
  async close(deviceId: string): Promise<void> {
    try {
      await this.api.send('DELETE', `/connections/username/${segment(deviceId)}`, undefined, { 'x-reason': 'device disabled or its secret changed' })
      this.log.info({ deviceId }, 'closed the device\'s RabbitMQ connections')
    } catch (err) {
      // The device keeps its connection until it reconnects (then its login is refused).
      this.log.error({ err, deviceId }, 'could not close the device\'s RabbitMQ connections through the management API')
    }
  }

  async stop(): Promise<void> {
    await this.unlisten?.()
    this.unlisten = undefined
  }
}
