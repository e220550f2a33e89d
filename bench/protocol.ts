// What the bench process and its load-generator processes say to each other over the IPC channel.
// The channel (rather than argv or an environment variable) carries the credentials list, which
// for a large fleet exceeds the 128 KiB a single argument or variable may hold on Linux.
import type { DeviceKind } from '../core/contract.ts'
import type { HistogramJson } from './histogram.ts'

export type ScenarioName = 'devices' | 'gateways'

export interface LoadClient {
  id: string
  secret: string
  kind: DeviceKind
  /** Gateways only: the registered children it reports for. */
  children?: string[]
}

export interface LoadgenConfig {
  url: string
  scenario: ScenarioName
  clients: LoadClient[]
  /** Unacknowledged QoS 1 publishes each client keeps outstanding. */
  inflight: number
  /** How long to wait for outstanding PUBACKs after the measured interval. */
  drainMs: number
}

export type ToGenerator =
  | { type: 'config'; config: LoadgenConfig }
  /** Wall-clock epoch ms: publish from now, count from `measureFrom`, stop at `measureUntil`. */
  | { type: 'start'; measureFrom: number; measureUntil: number }

export interface LoadgenResult {
  clients: number
  /** Messages published within the measured interval, and of those the ones acknowledged. */
  sent: number
  acked: number
  readingsAcked: number
  /** Over the whole run, warm-up included. */
  totalSent: number
  totalAcked: number
  /** Publishes still unacknowledged when the generator gave up waiting. */
  unacked: number
  errors: number
  firstError: string | undefined
  /** publish → PUBACK of the messages published within the measured interval. */
  latency: HistogramJson
  /** CPU time (user + system) the generator spent during the measured interval. */
  cpuMs: number
  maxRssKiB: number
}

export type FromGenerator =
  | { type: 'ready'; clients: number }
  | { type: 'result'; result: LoadgenResult }
  | { type: 'failed'; message: string }
