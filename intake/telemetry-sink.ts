// The TelemetrySink: the one pipeline behind every way in (ingest/pipeline.ts implements it). A
// receiver hands it a device's telemetry once it knows the device (`submit`), a message on one of
// our MQTT topics as it came (`handle`), or a status change; each promise settles after the commit
// of its readings and dead letters. Declared here, below the services, so a receiver in `intake/`
// reaches the same checks, dead letters, group commit and metrics without importing `ingest/`.
import type { DeviceStatus, RejectReason } from '../core/contract.ts'
import type { Rejection } from '../core/telemetry.ts'

/** Telemetry for one device whose identity the entry point has already established. */
export interface DeviceSubmission {
  deviceId: string
  /** The entry point, recorded where an MQTT dead letter records its topic: `http/devices/{id}`, `onenet/{id}`, … */
  source: string
  /** Who sent it, when it is not the device itself (a platform, a gateway); null otherwise. */
  clientId?: string | null
  receivedAt?: number
  body: SubmissionBody
  /**
   * The identity of a message its sender may resend unchanged (a platform's retry, a request's
   * Idempotency-Key), payload hash included: its dead letters are then recorded once however
   * often it comes (core/repos/dead-letters.ts). Absent: every arrival is a message of its own.
   */
  messageKey?: string
}

export type SubmissionBody =
  /** Our JSON contract as bytes: one entry or an array of entries. */
  | { kind: 'raw'; payload: Buffer }
  /** Entries already in memory (a decoder's output), checked like a parsed payload. */
  | { kind: 'entries'; json: unknown }
  /** Refused before it had entries (a decoder failed): recorded as one dead letter. */
  | { kind: 'rejected'; code: RejectReason; detail: string; excerpt: string | null }

export interface IngestResult {
  /** Readings committed. */
  stored: number
  /** Rejections recorded as dead letters. */
  rejected: number
  /** The worded rejections (bounded by INGEST_MAX_DEAD_LETTERS_PER_MESSAGE), for an answer to the sender. */
  rejections: readonly Rejection[]
}

/** A message on one of our MQTT topics (or their AMQP routing keys), as a broker delivered it. */
export interface IncomingMessage {
  topic: string
  payload: Buffer
  clientId: string | null
  receivedAt?: number
}

export interface TelemetrySink {
  /** Resolves once the readings and dead letters are committed. */
  submit(sub: DeviceSubmission): Promise<IngestResult>
  /** A topic message: the device is the topic's, checked against the registry; settles after the commit. */
  handle(msg: IncomingMessage): Promise<IngestResult>
  /** A device came online or went offline, as a platform reports it (MQTT: its status topic / Last Will). */
  setStatus(deviceId: string, status: DeviceStatus): Promise<void>
}
