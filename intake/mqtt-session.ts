// A persistent MQTT subscription whose messages are acknowledged after their commit: what the
// standalone ingest (ingest/standalone.ts) and the ChirpStack integration (intake/chirpstack.ts)
// share as clients of an external broker (Mosquitto, EMQX, an Aedes cluster).
//
// The session is persistent (clean: false, fixed client id, QoS 1 subscriptions), so what arrives
// while the client is down waits in the broker, and a QoS 1 message the client never acknowledged
// is delivered again when it reconnects ([MQTT-4.4.0-1]). MQTT.js hands inbound QoS 1 messages to
// `handleMessage` one at a time and sends the PUBACK when it calls back; it reads the next packet
// only after that. Acknowledging every message only after its commit therefore means one commit
// per message. The ack window trades that: messages may be acknowledged at once while the weight
// (readings, or events) acknowledged but not yet committed stays within `ackWindow`, and only
// after their commit beyond it. So a `kill -9` can lose at most `ackWindow` of that weight;
// `ackWindow: 0` loses nothing the broker handed over, at one commit per message.
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt'
import type { Logger } from '../core/log.ts'
import type { Unit } from '../core/units.ts'

export interface SessionOptions {
  url: string
  clientId: string
  username?: string | undefined
  password?: string | undefined
  /** Topic filters, subscribed at QoS 1 on every connect. */
  filters: readonly string[]
  /** Weight that may be acknowledged before its commit (the most a kill -9 can lose). */
  ackWindow: number
  /** MQTT 5 with a session that never expires (needed for shared subscriptions); else 3.1.1. */
  mqtt5?: boolean
}

/** What a message handler says at once: its weight for the ack window, and its commit. */
export interface Handled {
  weight: number
  done: Promise<unknown>
}

export type MessageHandler = (packet: IPublishPacket) => Handled

export class PersistentSession implements Unit {
  readonly name: string
  private client: MqttClient | undefined

  /** The live connection, for publishing on it (the readings bus); undefined while stopped. */
  get connection(): MqttClient | undefined {
    return this.client
  }
  /** Weight of messages acknowledged before their commit; never above `ackWindow`. */
  private exposed = 0

  constructor(
    name: string,
    private readonly opts: SessionOptions,
    private readonly handle: MessageHandler,
    private readonly log: Logger,
  ) {
    this.name = name
  }

  /** Acknowledged but not yet committed, for tests and the log. */
  get unacknowledgedExposure(): number {
    return this.exposed
  }

  async start(): Promise<void> {
    const options: IClientOptions = {
      clientId: this.opts.clientId,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      protocolVersion: this.opts.mqtt5 ? 5 : 4,
      ...(this.opts.mqtt5 ? { properties: { sessionExpiryInterval: 0xffffffff } } : {}),
      ...(this.opts.username ? { username: this.opts.username, password: this.opts.password ?? '' } : {}),
    }
    const client = mqtt.connect(this.opts.url, options)
    this.client = client
    client.handleMessage = (packet, done) => this.onMessage(packet, done)
    client.on('error', (err) => this.log.warn({ err }, 'MQTT client error'))
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
        client.subscribe([...this.opts.filters], { qos: 1 }, (err, granted) => {
          const refused = granted?.filter((g) => g.qos === 128) ?? []
          if (err || refused.length > 0) reject(err ?? new Error(`subscription refused: ${refused.map((g) => g.topic).join(', ')}`))
          else resolve()
        })
      }
      client.once('connect', onConnect)
      client.once('error', onError)
    })
  }

  private onMessage(packet: IPublishPacket, done: (err?: Error) => void): void {
    let handled: Handled
    try {
      handled = this.handle(packet)
    } catch (err) {
      // Handlers record bad input as dead letters themselves; a throw here is a bug. Not
      // acknowledging keeps the message in the broker, and the error is loud.
      this.log.error({ err, topic: packet.topic }, 'message handler threw; the broker will redeliver it')
      done(err instanceof Error ? err : new Error(String(err)))
      return
    }
    const { weight, done: pending } = handled
    if (packet.qos > 0 && this.exposed + weight > this.opts.ackWindow) {
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
      this.exposed += weight
      pending
        .catch((err: unknown) => this.log.error({ err, topic: packet.topic }, 'acknowledged message was not stored'))
        .finally(() => (this.exposed -= weight))
      done()
    }
  }

  async stop(): Promise<void> {
    const client = this.client
    this.client = undefined
    if (!client) return
    await client.endAsync()
  }
}
