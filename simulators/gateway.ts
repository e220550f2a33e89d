// A gateway: samples its child devices (which have no connection of their own), buffers their
// readings and publishes them as one batch on its gateway topic, plus its own health on its
// device topic.
import type { z } from 'zod'
import { MAX_ENTRIES, topics, type TelemetryEntry, type gatewayTelemetrySchema } from '../core/contract.ts'
import { corruptValues, truncate, UNKNOWN_METRIC } from './bad-payloads.ts'
import type { OutgoingMessage, SimUnit } from './device.ts'
import type { AnyModel, GatewayModel } from './models/index.ts'
import type { Rng } from './rng.ts'

/** A device id no gateway has as a child, for the `not_a_child` dead-letter path. */
export const STRANGER_ID = 'unregistered-child'

export type GatewayBatch = z.infer<typeof gatewayTelemetrySchema>

export interface GatewayChild {
  id: string
  model: AnyModel
}

export class Gateway implements SimUnit {
  readonly kind = 'gateway' as const
  private readonly buffer = new Map<string, TelemetryEntry[]>()
  private readonly childSeq = new Map<string, number>()
  private seq = 0
  private ticks = 0

  constructor(
    readonly id: string,
    readonly model: GatewayModel,
    readonly children: readonly GatewayChild[],
    private readonly rng: Rng,
    /** Samples per batch: 1 publishes every tick, n collects n samples per child first. */
    private readonly batchEvery = 1,
  ) {}

  /** Takes one reading of every child that is not silent into the buffer. */
  collect(nowMs: number): void {
    for (const child of this.children) {
      if (child.model.has('silent')) continue
      let values: TelemetryEntry['values'] = child.model.step(nowMs)
      if (child.model.has('bad_payload')) {
        // One bad child must not spoil the batch for its siblings: only its entry is wrong.
        values = corruptValues(child.model.kind, values, this.rng.pick(['out_of_range', 'unknown_metric'] as const), this.rng)
      }
      const seq = this.childSeq.get(child.id) ?? 0
      this.childSeq.set(child.id, seq + 1)
      const entries = this.buffer.get(child.id) ?? []
      entries.push({ ts: Math.round(nowMs), seq, values })
      // Bounded: a batch never grows past what one message may carry per device.
      if (entries.length > MAX_ENTRIES) entries.shift()
      this.buffer.set(child.id, entries)
    }
  }

  /** The buffered readings as one contract batch, emptying the buffer; undefined if nothing is buffered. */
  takeBatch(): GatewayBatch | undefined {
    if (this.buffer.size === 0) return undefined
    const batch: GatewayBatch = Object.fromEntries(this.buffer)
    this.buffer.clear()
    return batch
  }

  tick(nowMs: number): OutgoingMessage[] {
    // A silent gateway is a dead gateway: its children go unheard with it.
    if (this.model.has('silent')) return []
    this.collect(nowMs)
    this.model.childrenOnline = this.children.filter((c) => !c.model.has('silent')).length
    const bad = this.model.has('bad_payload')
    const own = { ts: Math.round(nowMs), seq: this.seq++, values: this.model.step(nowMs) }
    const out: OutgoingMessage[] = [
      {
        topic: topics.deviceTelemetry(this.id),
        payload: JSON.stringify(bad ? { ...own, values: { ...own.values, [UNKNOWN_METRIC]: 1 } } : own),
        readings: 1,
      },
    ]
    this.ticks++
    if (this.ticks % this.batchEvery === 0) {
      const batch = this.takeBatch()
      if (batch) out.push(this.batchMessage(batch, bad, nowMs))
    }
    return out
  }

  private batchMessage(batch: GatewayBatch, bad: boolean, nowMs: number): OutgoingMessage {
    const topic = topics.gatewayTelemetry(this.id)
    const readings = Object.values(batch).reduce((n, entries) => n + entries.length, 0)
    if (!bad) return { topic, payload: JSON.stringify(batch), readings }
    // A faulty gateway either garbles the whole message or reports for a device it does not own.
    if (this.rng.chance(0.5)) return { topic, payload: truncate(JSON.stringify(batch)), readings: 0 }
    const stranger = { [STRANGER_ID]: [{ ts: Math.round(nowMs), values: { [UNKNOWN_METRIC]: 1 } }] }
    return { topic, payload: JSON.stringify({ ...batch, ...stranger }), readings: readings + 1 }
  }
}
