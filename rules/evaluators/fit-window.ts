// The readings of a rate or forecast rule's window with their least-squares line kept up to date as
// readings come and go: O(1) per reading instead of a fit over the whole window each time. A 5-minute
// window of a device reporting five times a second holds 1,500 readings; fitted anew at every
// reading (twice, with late placement), that was most of the rules engine's work at 10,000
// readings/s, and why a five-minute backlog was read ten times slower per reading than a one-minute
// one (the windows had filled).
//
// The sums are of times relative to a reference (squared epoch milliseconds would lose the
// precision), and are recomputed from the readings once as many changes as the window holds have
// been applied, so rounding cannot pile up: amortised, still O(1). The line is the one `fitLine`
// (trend.ts) gives for the same readings, to rounding (test/rules/fit-window.test.ts).
import { SampleWindow, type Sample } from './shared.ts'
import type { Line } from '../../shared/trend.ts'

export class FitWindow {
  private readonly window = new SampleWindow()
  private ref = 0
  private n = 0
  private sx = 0
  private sy = 0
  private sxx = 0
  private sxy = 0
  /** Changes applied since the sums were last computed from the readings. */
  private changes = 0

  get size(): number {
    return this.window.size
  }

  get first(): Sample | undefined {
    return this.window.first
  }

  get last(): Sample | undefined {
    return this.window.last
  }

  /** Adds a reading (a late one is slotted in by time). */
  push(s: Sample): void {
    if (this.n === 0) this.ref = s.ts
    this.add(s, 1)
    const out = this.window.push(s)
    if (out) this.add(out, -1)
    this.settle()
  }

  /** Drops readings at or before `ts`. */
  dropThrough(ts: number): void {
    while ((this.window.first?.ts ?? Infinity) <= ts) {
      const out = this.window.shift()
      if (!out) break
      this.add(out, -1)
    }
    this.settle()
  }

  /** The least-squares line through the window's readings; undefined when they span no time. */
  line(): Line | undefined {
    if (this.n < 2) return undefined
    const mx = this.sx / this.n
    const my = this.sy / this.n
    const sxx = this.sxx - this.sx * mx
    // All at one time (or so close that only rounding is left): no line, as fitLine says.
    if (!(sxx > Number.EPSILON * 64 * this.sxx)) return undefined
    return { slope: (this.sxy - this.sx * my) / sxx, tMean: this.ref + mx, vMean: my }
  }

  private add(s: Sample, sign: 1 | -1): void {
    const x = s.ts - this.ref
    this.n += sign
    this.sx += sign * x
    this.sy += sign * s.value
    this.sxx += sign * x * x
    this.sxy += sign * x * s.value
    this.changes++
  }

  /** Recomputes the sums from the readings when as many changes as readings were applied. */
  private settle(): void {
    if (this.changes <= Math.max(64, this.window.size)) return
    this.n = 0
    this.sx = this.sy = this.sxx = this.sxy = 0
    const first = this.window.first
    if (first) this.ref = first.ts
    for (const s of this.window.samples) this.add(s, 1)
    this.changes = 0
  }
}
