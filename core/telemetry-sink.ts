// The entry-point-neutral side of the ingest: what the HTTP device API and the vendor push
// receivers hand over once they know which device a payload is for. The MQTT path reaches the
// same checks, dead letters, group commit and metrics through the topic (ingest/pipeline.ts);
// this interface lets an entry point above `ingest/` (the API) use them without importing it.
import type { DeviceStatus, RejectReason } from './contract.ts'
import type { Rejection } from './telemetry.ts'

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

export interface TelemetrySink {
  /** Resolves once the readings and dead letters are committed. */
  submit(sub: DeviceSubmission): Promise<IngestResult>
  /** A device came online or went offline, as a platform reports it (MQTT: its status topic / Last Will). */
  setStatus(deviceId: string, status: DeviceStatus): Promise<void>
}
