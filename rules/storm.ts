// Gateway storm control: when a gateway goes silent its children go silent with it, and one
// no-data alert per child would bury the one that matters. A child's no-data raise is therefore
// held back under its gateway:
// - gateway down (its own no-data alert raised, or its Last Will said offline): suppressed — the
//   API never hears of the child's raise, nor of its repeats and clear;
// - gateway quiet (not heard from for longer than its interval, maybe going down): held until
//   the gateway is down (then suppressed), reports again, or a grace period passes (then reported);
// - gateway back: each suppressed child is held for a grace period (its readings follow in the
//   gateway's next batch) and reported only if it is still silent then.
// The grace period is twice the longer of the two reporting intervals.
import type { Evaluator, Outcome } from './evaluators/index.ts'
import { because } from '../shared/reason-text.ts'

export interface StormDevice {
  id: string
  kind: string
  gatewayId: string | null
  expectedIntervalMs: number
  lastSeen: number
  status: 'online' | 'offline' | undefined
}

/** What storm control reads of the engine's state, and how it reports a held raise. */
export interface StormContext {
  device(id: string): StormDevice | undefined
  evaluatorsOf(deviceId: string): readonly Evaluator[]
  evaluator(key: string): Evaluator | undefined
  now(): number
  report(ev: Evaluator, o: Outcome): void
}

/** The (rule, device) key of the engine's evaluator maps. */
export const evaluatorKey = (ruleId: string, deviceId: string) => `${ruleId}|${deviceId}`

export class StormControl {
  /** Child no-data alerts held back under their gateway's. */
  private readonly suppressed = new Set<string>()
  /** Child no-data raises waiting for a decision (see the header). */
  private readonly held = new Map<string, { outcome: Outcome; since: number; why: 'quiet' | 'back' }>()

  constructor(private readonly ctx: StormContext) {}

  /** Whether an outcome goes to the API now (false: storm control keeps it). */
  admit(ev: Evaluator, o: Outcome): boolean {
    const device = this.ctx.device(ev.deviceId)
    if (ev.type !== 'nodata' || !device?.gatewayId) return true
    const k = evaluatorKey(ev.ruleId, ev.deviceId)
    if (o.type === 'raise') {
      if (this.gatewayDown(device.gatewayId)) {
        this.suppressed.add(k)
        return false
      }
      if (this.gatewayQuiet(device.gatewayId)) {
        this.held.set(k, { outcome: o, since: this.ctx.now(), why: 'quiet' })
        return false
      }
      return true
    }
    if (this.suppressed.has(k) || this.held.has(k)) {
      // The API never heard of this child's raise: its repeats and clear stay here too.
      if (o.type === 'clear') {
        this.suppressed.delete(k)
        this.held.delete(k)
      }
      return false
    }
    return true
  }

  /** After an outcome went to the API: a gateway's no-data clear means it is back. */
  reported(ev: Evaluator, o: Outcome): void {
    if (ev.type === 'nodata' && o.type === 'clear' && this.ctx.device(ev.deviceId)?.kind === 'gateway') this.gatewayBack(ev.deviceId)
  }

  /** Decides held child raises: under a down gateway they are suppressed, otherwise reported. */
  tick(now: number): void {
    for (const [k, h] of this.held) {
      const device = this.ctx.device(k.slice(k.indexOf('|') + 1))
      const gateway = device?.gatewayId ? this.ctx.device(device.gatewayId) : undefined
      const ev = this.ctx.evaluator(k)
      if (!device || !gateway || !ev?.active) {
        this.held.delete(k)
        continue
      }
      const grace = 2 * Math.max(gateway.expectedIntervalMs, device.expectedIntervalMs)
      if (this.gatewayDown(gateway.id)) {
        this.held.delete(k)
        this.suppressed.add(k)
      } else if (h.why === 'quiet' ? !this.gatewayQuiet(gateway.id) || now - h.since > grace : now - h.since > grace) {
        this.held.delete(k)
        this.ctx.report(ev, h.outcome)
      }
    }
  }

  /** The gateway's own no-data alert is raised, or its Last Will said offline. */
  private gatewayDown(gatewayId: string): boolean {
    if (this.ctx.device(gatewayId)?.status === 'offline') return true
    return this.ctx.evaluatorsOf(gatewayId).some((ev) => ev.type === 'nodata' && ev.active)
  }

  /** The gateway has not reported for longer than its own interval: it may be going down. */
  private gatewayQuiet(gatewayId: string): boolean {
    const gw = this.ctx.device(gatewayId)
    return gw !== undefined && this.ctx.now() - gw.lastSeen > gw.expectedIntervalMs
  }

  /** The gateway reports again: each suppressed child is held for the grace period. */
  private gatewayBack(gatewayId: string): void {
    for (const k of [...this.suppressed]) {
      const ev = this.ctx.evaluator(k)
      if (!ev || this.ctx.device(ev.deviceId)?.gatewayId !== gatewayId) continue
      this.suppressed.delete(k)
      const outcome: Outcome = { type: 'raise', at: this.ctx.now(), value: null, ...because({ key: 'gateway.back-silent' }) }
      this.held.set(k, { outcome, since: this.ctx.now(), why: 'back' })
    }
  }
}
