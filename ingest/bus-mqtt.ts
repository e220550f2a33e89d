// The committed-readings bus (core/readings-bus.ts) over an MQTT client, for an ingest that is not
// inside the broker: the standalone MQTT ingest publishes through its own subscriber connection,
// an API process running its own ingest (`housing-brain api`) through a connection of its own,
// made here, logged in as a service.
//
// QoS 1, so a message sent while the connection is up is delivered once it has a PUBACK; while
// the connection is down nothing is handed to MQTT.js (whose offline queue has no bound): the
// publisher keeps the items in its own bounded queue and tries again.
import mqtt, { type MqttClient } from 'mqtt'
import type { Logger } from '../core/log.ts'
import type { Metrics } from '../core/metrics.ts'
import { BusPublisher, type BusTransport } from '../core/readings-bus.ts'
import type { Unit } from '../core/units.ts'

export function mqttTransport(client: () => MqttClient | undefined): BusTransport {
  return async (topic, payload) => {
    const c = client()
    if (!c?.connected) throw new Error('not connected to the MQTT broker')
    await c.publishAsync(topic, payload, { qos: 1 })
  }
}

export interface MqttBusOptions {
  url: string
  clientId: string
  username: string
  password: string
}

/** A publishing-only MQTT connection carrying one ingest's committed readings. */
export class MqttReadingsBus implements Unit {
  readonly name = 'readings-bus'
  readonly publisher: BusPublisher
  private client: MqttClient | undefined

  constructor(
    private readonly opts: MqttBusOptions,
    private readonly log: Logger,
    metrics: Metrics,
  ) {
    this.publisher = new BusPublisher(mqttTransport(() => this.client), log, { onDropped: (n) => metrics.busDropped.inc(n) })
  }

  /** Connects in the background: a broker down at start-up holds nothing up (the publisher retries). */
  start(): Promise<void> {
    const client = mqtt.connect(this.opts.url, {
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    })
    this.client = client
    client.on('connect', () => this.log.info({ url: this.opts.url, clientId: this.opts.clientId }, 'publishing committed readings to the broker'))
    client.on('error', (err) => this.log.warn({ err }, 'readings bus: MQTT client error'))
    return Promise.resolve()
  }

  async stop(): Promise<void> {
    await this.publisher.drain()
    this.publisher.stop()
    const client = this.client
    this.client = undefined
    await client?.endAsync()
  }
}
