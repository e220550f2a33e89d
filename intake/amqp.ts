// AMQP ingest: a consumer of the durable telemetry queue that RabbitMQ's MQTT plugin fills
// (`housing-brain ingest --from amqp://…`), for the clustered broker tier (issue 11). A receiver
// (intake/receiver.ts) whose device is its message's topic, as RabbitMQ authorised the publish
// through its HTTP auth backend (intake/http/rabbitmq-auth.ts).
//
// Acknowledgement after commit, always. Up to `prefetch` messages are handed to the pipeline at
// once, so the group-commit writer batches them; each is acknowledged only when the batch that
// holds its readings has committed. So, unlike the MQTT subscriber's ack window, nothing
// acknowledged is ever lost: a killed worker leaves its unacknowledged messages to RabbitMQ,
// which delivers them again (to this worker after a restart, or to another). A message whose
// commit fails (the ingest is stopping; the writer itself waits out a database outage) is
// returned to the queue (nack, requeue). A bad payload is not a failure: the pipeline writes a
// dead letter for it, and the message is acknowledged after that commit. Delivered twice, a
// reading is stored once (readings' unique key, ON CONFLICT DO NOTHING).
//
// Several workers may consume the same queue; RabbitMQ spreads the messages between them.
//
// The worker does not declare the queue: `housing-brain rabbitmq setup` does, before any device
// publishes, and the worker's command checks it at start (ingest/rabbitmq-setup.ts). A queue that
// came into being with the first worker dropped every reading RabbitMQ had acknowledged before
// (issue 17, loss 5); a missing queue now fails the consume, loudly.
//
// Nothing is published back: what commits reaches the rules engine through the feed (core/feed.ts).
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib'
import { topicOfRoutingKey } from '../core/contract.ts'
import type { Logger } from '../core/log.ts'
import type { Unit } from '../core/units.ts'
import type { Receiver } from './receiver.ts'
import type { IngestResult, TelemetrySink } from './telemetry-sink.ts'

export interface AmqpIngestOptions {
  url: string
  /** The durable queue to consume (declared by `housing-brain rabbitmq setup`). */
  queue: string
  /** The topic exchange RabbitMQ's MQTT plugin publishes to (mqtt.exchange). */
  exchange: string
  /** Messages in flight per worker: the most the writer can batch from this worker at once. */
  prefetch: number
}

const RECONNECT_MIN_MS = 1000
const RECONNECT_MAX_MS = 30_000

export class AmqpIngest implements Unit, Receiver<ConsumeMessage, IngestResult> {
  private conn: ChannelModel | undefined
  private channel: Channel | undefined
  private consumerTag: string | undefined
  private stopping = false
  private reconnectTimer: NodeJS.Timeout | undefined
  /** Messages handed to the pipeline and not yet acknowledged or returned. */
  private readonly inFlight = new Set<Promise<void>>()

  constructor(
    private readonly submit: TelemetrySink['handle'],
    private readonly opts: AmqpIngestOptions,
    private readonly log: Logger,
  ) {}

  /** Two per worker (the telemetry queue, the unroutable one): named by queue in the logs. */
  get name(): string {
    return `amqp-consumer ${this.opts.queue}`
  }

  /** For readiness: consuming from RabbitMQ now. */
  get connected(): boolean {
    return this.channel !== undefined
  }

  async start(): Promise<void> {
    this.stopping = false
    await this.connect()
  }

  /** Consumes the queue; it must exist (RabbitMQ closes the connection on a missing one, and this rejects). */
  private async connect(): Promise<void> {
    const conn = await amqp.connect(this.opts.url)
    conn.on('error', (err: unknown) => this.log.warn({ err }, 'AMQP connection error'))
    conn.on('close', () => this.onLost(conn))
    try {
      const channel = await conn.createChannel()
      await channel.prefetch(this.opts.prefetch)
      const { consumerTag } = await channel.consume(this.opts.queue, (msg) => {
        if (msg) this.onMessage(channel, msg)
        else this.onCancelled(conn)
      })
      // Only now is it ours: a connection that failed half-way is closed here, not reconnected by onLost.
      this.conn = conn
      this.channel = channel
      this.consumerTag = consumerTag
    } catch (err) {
      await conn.close().catch(() => undefined)
      throw err
    }
    this.log.info({ queue: this.opts.queue, prefetch: this.opts.prefetch }, 'consuming telemetry from RabbitMQ')
  }

  /** RabbitMQ cancelled the consumer (the queue was deleted): reconnect, which retries until the queue is back. */
  private onCancelled(conn: ChannelModel): void {
    this.log.error({ queue: this.opts.queue }, 'RabbitMQ cancelled the consumer (was the queue deleted? housing-brain rabbitmq setup declares it again)')
    void conn.close().catch(() => undefined)
  }

  /** One message to the sink: the device is its routing key's topic's; settles after the commit. */
  receive(msg: ConsumeMessage): Promise<IngestResult> {
    return this.submit({ topic: topicOfRoutingKey(msg.fields.routingKey), payload: msg.content, clientId: null })
  }

  /** Acknowledged after the commit; returned to the queue when nothing was recorded. */
  private onMessage(channel: Channel, msg: ConsumeMessage): void {
    const topic = topicOfRoutingKey(msg.fields.routingKey)
    const done = this.receive(msg).then(
      () => settle(() => channel.ack(msg)),
      (err: unknown) => {
        this.log.warn({ err, topic }, 'message not stored; returned to the queue')
        settle(() => channel.nack(msg, false, true))
      },
    )
    this.inFlight.add(done)
    void done.finally(() => this.inFlight.delete(done))
  }

  /**
   * Messages ready in the queue (hb_amqp_queue_messages), undefined while not connected. Asked on a
   * channel of its own: a failed check makes RabbitMQ close the channel it was asked on, and that
   * must never be the consumer's.
   */
  async messageCount(): Promise<number | undefined> {
    const conn = this.conn
    if (!conn) return undefined
    const channel = await conn.createChannel()
    channel.on('error', () => undefined)
    try {
      return (await channel.checkQueue(this.opts.queue)).messageCount
    } finally {
      await channel.close().catch(() => undefined)
    }
  }

  /** The connection went away: RabbitMQ redelivers what was unacknowledged; connect again. */
  private onLost(conn: ChannelModel): void {
    if (this.conn !== conn) return
    this.conn = undefined
    this.channel = undefined
    if (this.stopping) return
    this.log.warn({ queue: this.opts.queue }, 'AMQP connection lost; reconnecting')
    this.scheduleReconnect(RECONNECT_MIN_MS)
  }

  private scheduleReconnect(delayMs: number): void {
    this.reconnectTimer = setTimeout(() => {
      this.connect().catch((err: unknown) => {
        this.log.warn({ err, retryInMs: delayMs }, 'AMQP reconnect failed')
        if (!this.stopping) this.scheduleReconnect(Math.min(delayMs * 2, RECONNECT_MAX_MS))
      })
    }, delayMs)
  }

  /** Stops taking messages, lets those in flight commit and be acknowledged, then closes. */
  async stop(): Promise<void> {
    this.stopping = true
    clearTimeout(this.reconnectTimer)
    const { channel, conn, consumerTag } = this
    if (channel && consumerTag !== undefined) await channel.cancel(consumerTag).catch(() => undefined)
    await Promise.allSettled([...this.inFlight])
    this.conn = undefined
    this.channel = undefined
    await conn?.close().catch(() => undefined)
  }
}

/**
 * Acknowledges or returns a message on its channel; if the channel has closed meanwhile, RabbitMQ
 * has already put the message back, and the ack has nothing left to do.
 */
function settle(action: () => void): void {
  try {
    action()
  } catch {
    // The channel is closed: the message is redelivered; its readings, if committed, are kept once.
  }
}
