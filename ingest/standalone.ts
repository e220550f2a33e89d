// Standalone ingest: an MQTT client of an external broker (Mosquitto, EMQX, an Aedes cluster),
// subscribed to the contract's topics through a persistent session (intake/mqtt-session.ts).
//
// Durability. What arrives while the ingest is down waits in the broker. Readings may be
// acknowledged before their commit while those acknowledged but not yet committed stay within
// `ackWindow`, and only after the commit beyond that. So a `kill -9` can lose at most `ackWindow`
// readings that were acknowledged but not yet committed (plus the dead letters of the same
// messages); `ackWindow: 0` loses nothing and trades throughput for it (one commit per message).
// See the README, "Standalone ingest".
//
// Nothing is published back: what commits reaches the rules engine through the feed (core/feed.ts),
// so a third party's broker (ChirpStack's Mosquitto) never sees the readings again.
import { topics } from '../core/contract.ts'
import type { Logger } from '../core/log.ts'
import type { Unit } from '../core/units.ts'
import { PersistentSession } from '../intake/mqtt-session.ts'
import type { IngestService } from './service.ts'

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
  private readonly session: PersistentSession

  constructor(
    private readonly ingest: IngestService,
    private readonly opts: StandaloneOptions,
    private readonly log: Logger,
  ) {
    const filters = [...topics.allTelemetry, topics.allStatus].map((t) => (opts.sharedGroup ? `$share/${opts.sharedGroup}/${t}` : t))
    this.session = new PersistentSession(
      this.name,
      { url: opts.url, clientId: opts.clientId, username: opts.username, password: opts.password, filters, ackWindow: opts.ackWindow, mqtt5: Boolean(opts.sharedGroup) },
      (packet) => {
        const { rows, done } = ingest.pipeline.begin({
          topic: packet.topic,
          payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
          clientId: null,
        })
        return { weight: rows, done }
      },
      log,
    )
  }

  /** For readiness: connected to the broker now. */
  get connected(): boolean {
    return this.session.connection?.connected === true
  }

  async start(): Promise<void> {
    await this.session.start()
    this.log.info({ url: this.opts.url, clientId: this.opts.clientId }, 'standalone ingest subscribed')
  }

  async stop(): Promise<void> {
    await this.session.stop()
  }
}
