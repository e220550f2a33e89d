// One message in, readings committed and rejections dead-lettered; the promise settles after commit.
// Shared by the broker-embedded ingest (PUBACK after commit) and the standalone MQTT subscriber.
import { DEVICE_STATUS, parseTopic, type DeviceStatus } from '../core/contract.ts'
import type { Db } from '../core/db/client.ts'
import type { DeviceDirectory, DeviceInfo } from '../core/device-directory.ts'
import type { Logger } from '../core/log.ts'
import type { Metrics } from '../core/metrics.ts'
import type { DeadLetter } from '../core/repos/dead-letters.ts'
import { retryUntilAborted } from '../core/retry.ts'
import { setDeviceStatus } from '../core/repos/devices.ts'
import { checkReadings, excerpt, idsOf, parseMessage, type ParsedMessage, type Rejection } from './validate.ts'
import type { IngestWriter, JobOrigin } from './writer.ts'

export interface IncomingMessage {
  topic: string
  payload: Buffer
  clientId: string | null
  receivedAt?: number
}

export interface IngestResult {
  stored: number
  rejected: number
}

/** Dead letters kept per message; the rest are summed up in one row so none goes unrecorded. */
const MAX_DEAD_LETTERS_PER_MESSAGE = 100

function originOf(msg: IncomingMessage, deviceId: string | null, receivedAt: number): JobOrigin {
  return { topic: msg.topic, clientId: msg.clientId, deviceId, receivedAt: new Date(receivedAt) }
}

export class IngestPipeline {
  constructor(
    private readonly db: Db,
    private readonly devices: DeviceDirectory,
    private readonly writer: IngestWriter,
    private readonly opts: { maxFutureSkewMs: number; signal: AbortSignal },
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  handle(msg: IncomingMessage): Promise<IngestResult> {
    return this.begin(msg).done
  }

  /**
   * Parses the message at once and tells how many readings it can at most store (also 1 for a
   * status or a rejected message, whose record is written too); `done` settles after the commit.
   */
  begin(msg: IncomingMessage): { rows: number; done: Promise<IngestResult> } {
    const receivedAt = msg.receivedAt ?? Date.now()
    const topic = parseTopic(msg.topic)
    if (topic?.type === 'device-status') return { rows: 1, done: this.handleStatus(msg, topic.deviceId, receivedAt) }
    const parsed = parseMessage(msg.topic, msg.payload)
    let rows = parsed.rejects.length
    for (const e of parsed.entries) rows += Object.keys(e.entry.values).length
    return { rows: Math.max(rows, 1), done: this.complete(msg, parsed, receivedAt) }
  }

  private async complete(msg: IncomingMessage, parsed: ParsedMessage, receivedAt: number): Promise<IngestResult> {
    const devices = parsed.entries.length > 0 ? await this.lookup(idsOf(parsed)) : new Map<string, DeviceInfo>()
    const { readings, rejects } = checkReadings(parsed, devices, { receivedAt, maxFutureSkewMs: this.opts.maxFutureSkewMs })
    const deadLetters = this.toDeadLetters(msg, receivedAt, rejects)
    if (rejects.length > 0) {
      this.log.debug({ topic: msg.topic, clientId: msg.clientId, rejected: rejects.length, first: rejects[0]?.reason }, 'rejected telemetry')
    }
    const stored = await this.writer.submit(readings, deadLetters, originOf(msg, parsed.sourceId, receivedAt))
    return { stored, rejected: rejects.length }
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
    let problem: Rejection | undefined
    if (!known) {
      problem = { deviceId, reasonCode: 'unknown_device', reason: `no device "${deviceId}" is registered`, excerpt: excerpt(text) }
    } else if (!(DEVICE_STATUS as readonly string[]).includes(text)) {
      problem = { deviceId, reasonCode: 'schema_violation', reason: 'status payload must be "online" or "offline"', excerpt: excerpt(text) }
    }
    if (problem) {
      await this.writer.submit([], this.toDeadLetters(msg, receivedAt, [problem]), originOf(msg, deviceId, receivedAt))
      return { stored: 0, rejected: 1 }
    }
    await retryUntilAborted(() => setDeviceStatus(this.db, deviceId, text as DeviceStatus), { signal: this.opts.signal })
    return { stored: 0, rejected: 0 }
  }

  private toDeadLetters(msg: IncomingMessage, receivedAt: number, rejects: Rejection[]): DeadLetter[] {
    const at = new Date(receivedAt)
    const row = (r: Rejection): DeadLetter => ({
      receivedAt: at,
      clientId: msg.clientId,
      topic: msg.topic,
      deviceId: r.deviceId,
      reasonCode: r.reasonCode,
      reason: r.reason,
      payloadExcerpt: r.excerpt,
    })
    for (const r of rejects) this.metrics.rejected.inc({ reason: r.reasonCode })
    if (rejects.length <= MAX_DEAD_LETTERS_PER_MESSAGE) return rejects.map(row)
    const kept = rejects.slice(0, MAX_DEAD_LETTERS_PER_MESSAGE - 1).map(row)
    const rest = rejects.slice(MAX_DEAD_LETTERS_PER_MESSAGE - 1)
    const codes = [...new Set(rest.map((r) => r.reasonCode))].join(', ')
    const first = rest[0]
    if (first) {
      kept.push({ ...row(first), reason: `${rest.length} more rejections in this message (${codes}); first: ${first.reason}` })
    }
    return kept
  }
}
