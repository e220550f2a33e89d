// Standalone ingest: an MQTT client of an external broker (Mosquitto, EMQX, an Aedes cluster).
//
// Durability. The session is persistent (clean: false, fixed client id, QoS 1), so what arrives
// while the ingest is down waits in the broker. MQTT.js hands inbound QoS 1 messages to
// `handleMessage` one at a time and sends the PUBACK when it calls back. Acknowledging only after
// the commit would mean one transaction per message; instead the ingest acknowledges at once while
// the readings acknowledged but not yet committed stay within `ackWindow`, and only after the
// commit beyond that. So a `kill -9` can lose at most `ackWindow` readings that were acknowledged but not yet
// committed (plus the dead letters of the same messages); `ackWindow: 0` loses nothing and trades
// throughput for it (one commit per message). See the README, "Standalone ingest".
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { topics } from '../core/contract.ts'
import type { Logger } from '../core/log.ts'
import type { Unit } from '../core/units.ts'
import type { Ingest } from './service.ts'

export interface StandaloneOptions {
  url: string
  clientId: string
  username?: string | undefined
  password?: string | undefined
  /** Readings that may be acknowledged before their commit (the most a kill -9 can lose). */
  ackWindow: number
  /** MQTT 5 shared-subscription group, so several ingest workers split the stream. */
  sharedGroup?: string | undefined
}

export class StandaloneIngest implements Unit {
  readonly name = 'mqtt-subscriber'
  private client: MqttClient | undefined
  /** Rows of messages acknowledged before their commit; never above `ackWindow`. */
  private exposed = 0

  constructor(
    private readonly ingest: Ingest,
    private readonly opts: StandaloneOptions,
    private readonly log: Logger,
  ) {}

  /** For readiness: connected to the broker now. */
  get connected(): boolean {
    return this.client?.connected === true
  }

  async start(): Promise<void> {
    const options: IClientOptions = {
      clientId: this.opts.clientId,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      protocolVersion: this.opts.sharedGroup ? 5 : 4,
      ...(this.opts.sharedGroup ? { properties: { sessionExpiryInterval: 0xffffffff } } : {}),
      ...(this.opts.username ? { username: this.opts.username, password: this.opts.password ?? '' } : {}),
    }
    const client = mqtt.connect(this.opts.url, options)
    this.client = client
    client.handleMessage = (packet, done) => {
      const { rows, done: pending } = this.ingest.pipeline.begin({
        topic: packet.topic,
        payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
        clientId: null,
      })
      if (packet.qos > 0 && this.exposed + rows > this.opts.ackWindow) {
        // Beyond the window: PUBACK only after the commit. On failure (shutdown) no PUBACK is
        // sent, and the broker redelivers the message to the persistent session. MQTT.js is
        // still called back (with the error, which skips the PUBACK): it handles inbound packets
        // one at a time, so a callback never made stalls the connection for good.
        pending.then(
          () => done(),
          (err: unknown) => {
            this.log.warn({ err, topic: packet.topic }, 'message not stored; the broker will redeliver it')
            done(err instanceof Error ? err : new Error(String(err)))
          },
        )
      } else {
        this.exposed += rows
        pending
          .catch((err: unknown) => this.log.error({ err, topic: packet.topic }, 'acknowledged message was not stored'))
          .finally(() => (this.exposed -= rows))
        done()
      }
    }
    client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT client error'))
    client.on('offline', () => this.log.warn({ url: this.opts.url }, 'MQTT broker unreachable; reconnecting'))

    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        client.off('connect', onConnect)
        reject(err)
      }
      const onConnect = (connack: mqtt.IConnackPacket) => {
        client.off('error', onError)
        // Subscribing again on a resumed session is harmless ([MQTT-3.8.4-3] replaces the
        // subscription, queued messages stay) and covers a broker that lost its session store.
        this.log.info({ sessionPresent: connack.sessionPresent }, 'connected to the MQTT broker')
        const filters = [...topics.allTelemetry, topics.allStatus].map((t) =>
          this.opts.sharedGroup ? `$share/${this.opts.sharedGroup}/${t}` : t,
        )
        client.subscribe(filters, { qos: 1 }, (err, granted) => {
          const refused = granted?.filter((g) => g.qos === 128) ?? []
          if (err || refused.length > 0) reject(err ?? new Error(`subscription refused: ${refused.map((g) => g.topic).join(', ')}`))
          else resolve()
        })
      }
      client.once('connect', onConnect)
      client.once('error', onError)
    })
    this.log.info({ url: this.opts.url, clientId: this.opts.clientId }, 'standalone ingest subscribed')
  }

  async stop(): Promise<void> {
    const client = this.client
    this.client = undefined
    if (!client) return
    await client.endAsync()
  }
}
