// One message in, readings committed and rejections dead-lettered; the promise settles after commit.
// The TelemetrySink (intake/telemetry-sink.ts) of every receiver: the broker-embedded ingest (PUBACK
// after commit), the standalone MQTT subscriber, the AMQP workers and, through `submit`, the HTTP
// receivers and ChirpStack: one set of checks, dead
// letters, group commit and metrics whatever the way in.
//
// The readings a batch stores, and a status change, go on the commit-ordered feed in the same
// transaction (core/feed.ts): that is how the rules engine hears of them, whatever the way in.
//
// Every message ends recorded: stored, dead-lettered, or — only when the ingest is stopping —
// left unacknowledged for redelivery. An exception while handling one (a bug, or input nobody
// foresaw) dead-letters it as `internal_error` and is logged at error: a message that failed
// silently once made the broker drop the connection, and a persistent session resent it forever
// (issue 7, item 15).
import { DEVICE_STATUS, parseTopic, type DeviceStatus } from '../core/contract.ts'
import type { Db } from '../core/db/client.ts'
import type { DeviceDirectory, DeviceInfo } from '../core/device-directory.ts'
import type { Logger } from '../core/log.ts'
import type { Metrics } from '../core/metrics.ts'
import { deadLetterKey, type DeadLetter } from '../core/repos/dead-letters.ts'
import { retryUntilAborted } from '../core/retry.ts'
import { setDeviceStatus } from '../core/repos/devices.ts'
import { checkReadings, excerpt, idsOf, parseEntries, parseMessage, parsePayload, payloadExcerpt, Rejections, type ParsedMessage, type Reading, type Rejection, type TelemetryLimits } from '../core/telemetry.ts'
import type { DeviceSubmission, IncomingMessage, IngestResult, TelemetrySink } from '../intake/telemetry-sink.ts'
import { bucketOf } from '../core/feed.ts'
import type { IngestWriter, JobOrigin } from './writer.ts'

/** What a dead letter records of where a message came from: its topic (or entry point) and client. */
interface Source {
  topic: string
  clientId: string | null
  /** The raw payload, for the excerpt and the log when handling throws. */
  payload?: Buffer | undefined
  /** The message's identity when its sender may resend it (DeviceSubmission.messageKey). */
  messageKey?: string | undefined
}

function originOf(msg: Source, deviceId: string | null, receivedAt: number): JobOrigin {
  return { topic: msg.topic, clientId: msg.clientId, deviceId, receivedAt: new Date(receivedAt) }
}

export class IngestPipeline implements TelemetrySink {
  constructor(
    private readonly db: Db,
    private readonly devices: DeviceDirectory,
    private readonly writer: IngestWriter,
    private readonly opts: { limits: TelemetryLimits; signal: AbortSignal },
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  handle(msg: IncomingMessage): Promise<IngestResult> {
    return this.begin(msg).done
  }

  /** Telemetry for a device an entry point other than MQTT has identified; settles after commit. */
  submit(sub: DeviceSubmission): Promise<IngestResult> {
    const receivedAt = sub.receivedAt ?? Date.now()
    const src: Source = { topic: sub.source, clientId: sub.clientId ?? null, messageKey: sub.messageKey }
    const body = sub.body
    let parsed: ParsedMessage
    try {
      if (body.kind === 'rejected') {
        const rejects = new Rejections(1)
        rejects.add(sub.deviceId, body.code, () => body.detail, body.excerpt ?? undefined)
        return this.record(src, sub.deviceId, receivedAt, rejects)
      }
      if (body.kind === 'raw') src.payload = body.payload
      parsed = body.kind === 'raw' ? parsePayload(sub.deviceId, false, body.payload, this.opts.limits) : parseEntries(sub.deviceId, body.json, this.opts.limits)
    } catch (err) {
      return this.failed(src, receivedAt, err)
    }
    return this.complete(src, parsed, receivedAt)
  }

  /** Stores a status change (and puts it on the feed, when it changed anything). */
  async setStatus(deviceId: string, status: DeviceStatus): Promise<void> {
    const at = new Date()
    const gatewayId = (await this.lookup([deviceId])).get(deviceId)?.gatewayId ?? null
    await retryUntilAborted(() => setDeviceStatus(this.db, { id: deviceId, bucket: bucketOf({ id: deviceId, gatewayId }) }, status, at), { signal: this.opts.signal })
  }

  /**
   * Parses the message at once and tells how many readings it can at most store (also 1 for a
   * status or a rejected message, whose record is written too); `done` settles after the commit.
   */
  begin(msg: IncomingMessage): { rows: number; done: Promise<IngestResult> } {
    const receivedAt = msg.receivedAt ?? Date.now()
    let parsed: ParsedMessage
    try {
      const topic = parseTopic(msg.topic)
      if (topic?.type === 'device-status') return { rows: 1, done: this.handleStatus(msg, topic.deviceId, receivedAt) }
      parsed = parseMessage(msg.topic, msg.payload, this.opts.limits)
    } catch (err) {
      return { rows: 1, done: this.failed(sourceOf(msg), receivedAt, err) }
    }
    let rows = parsed.rejects.count
    for (const e of parsed.entries) rows += Object.keys(e.entry.values).length
    return { rows: Math.max(rows, 1), done: this.complete(sourceOf(msg), parsed, receivedAt) }
  }

  private async complete(msg: Source, parsed: ParsedMessage, receivedAt: number): Promise<IngestResult> {
    // Waiting out the database (lookup) is not a failure of the message: that error propagates.
    const devices = parsed.entries.length > 0 ? await this.lookup(idsOf(parsed)) : new Map<string, DeviceInfo>()
    let prepared: { readings: Reading[]; deadLetters: DeadLetter[]; rejected: number; kept: Rejection[] }
    try {
      const { readings, rejects } = checkReadings(parsed, devices, { receivedAt, ...this.opts.limits })
      prepared = { readings, deadLetters: this.toDeadLetters(msg, receivedAt, rejects), rejected: rejects.count, kept: rejects.kept }
      if (rejects.count > 0) {
        this.log.debug({ topic: msg.topic, clientId: msg.clientId, rejected: rejects.count, first: rejects.kept[0]?.reason }, 'rejected telemetry')
      }
    } catch (err) {
      return this.failed(msg, receivedAt, err)
    }
    const origin = { ...originOf(msg, parsed.sourceId, receivedAt), bucketOf: (id: string) => bucketOf({ id, gatewayId: devices.get(id)?.gatewayId ?? null }) }
    // 0 with readings: the database refused the message, and a dead letter took its place.
    const stored = await this.writer.submit(prepared.readings, prepared.deadLetters, origin)
    return { stored, rejected: prepared.rejected, rejections: prepared.kept }
  }

  /** A message whose handling threw: recorded as a dead letter, so it is acknowledged, not resent forever. */
  private failed(msg: Source, receivedAt: number, err: unknown): Promise<IngestResult> {
    this.log.error({ err, topic: msg.topic, clientId: msg.clientId, bytes: msg.payload?.length }, 'could not process a message; dead-lettered')
    const rejects = new Rejections(1)
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
    rejects.add(null, 'internal_error', () => text, msg.payload ? payloadExcerpt(msg.payload) : undefined)
    return this.record(msg, null, receivedAt, rejects)
  }

  /** A message refused whole: its dead letters committed, nothing stored. */
  private async record(msg: Source, deviceId: string | null, receivedAt: number, rejects: Rejections): Promise<IngestResult> {
    await this.writer.submit([], this.toDeadLetters(msg, receivedAt, rejects), originOf(msg, deviceId, receivedAt))
    return { stored: 0, rejected: rejects.count, rejections: rejects.kept }
  }

  /**
   * Device lookups wait out a database outage like the writes do (the message stays
   * unacknowledged meanwhile) instead of failing the message.
   */
  private lookup(ids: Iterable<string>): Promise<Map<string, DeviceInfo>> | Map<string, DeviceInfo> {
    // The common case — one device, known and cached — needs no promise and no query.
    const list = [...ids]
    const only = list.length === 1 ? list[0] : undefined
    if (only !== undefined) {
      const cached = this.devices.peek(only)
      if (cached === null) return new Map()
      if (cached) return new Map([[only, cached]])
    }
    return retryUntilAborted(() => this.devices.resolve(list), {
      signal: this.opts.signal,
      onError: (err, attempt) => {
        if (attempt === 1) this.log.warn({ err }, 'device lookup failed; retrying')
      },
    })
  }

  /** `online` / `offline` (retained; `offline` usually as the Last Will). */
  private async handleStatus(msg: IncomingMessage, deviceId: string, receivedAt: number): Promise<IngestResult> {
    const text = msg.payload.toString('utf8').trim()
    const known = (await this.lookup([deviceId])).get(deviceId)
    const problem = new Rejections(1)
    if (!known) {
      problem.add(deviceId, 'unknown_device', () => `no device "${deviceId}" is registered`, excerpt(text))
    } else if (!(DEVICE_STATUS as readonly string[]).includes(text)) {
      problem.add(deviceId, 'schema_violation', () => 'status payload must be "online" or "offline"', excerpt(text))
    }
    if (problem.count > 0) return this.record(sourceOf(msg), deviceId, receivedAt, problem)
    await this.setStatus(deviceId, text as DeviceStatus)
    return { stored: 0, rejected: 0, rejections: [] }
  }

  private toDeadLetters(msg: Source, receivedAt: number, rejects: Rejections): DeadLetter[] {
    const at = new Date(receivedAt)
    for (const [reason, n] of rejects.byReason()) this.metrics.rejected.inc({ reason }, n)
    const key = msg.messageKey
    return rejects.rows().map(
      (r: Rejection, index): DeadLetter => ({
        receivedAt: at,
        clientId: msg.clientId,
        topic: msg.topic,
        deviceId: r.deviceId,
        reasonCode: r.reasonCode,
        reason: r.reason,
        payloadExcerpt: r.excerpt,
        dedupKey: key === undefined ? null : deadLetterKey({ source: msg.topic, messageKey: key, index, deviceId: r.deviceId, reasonCode: r.reasonCode }),
      }),
    )
  }
}

function sourceOf(msg: IncomingMessage): Source {
  return { topic: msg.topic, clientId: msg.clientId, payload: msg.payload }
}
