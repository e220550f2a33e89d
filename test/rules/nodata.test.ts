import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Harness, MINUTE, SECOND, T0, rule, useFakeClock } from './harness.ts'

// The catalogue's offline rule: silent for 3 expected intervals (30 s each here), or Last Will.
const offline = rule({ type: 'nodata', scope: { kind: 'manhole' }, params: { factor: 3 } })

describe('nodata rule', () => {
  beforeEach(useFakeClock)
  afterEach(() => vi.useRealTimers())

  it('raises 3 expected intervals after the last reading and clears on the next one', () => {
    const h = Harness.for(offline).series('battery_pct', [80, 80, 80], 30 * SECOND)
    // Last reading at 60 s, the clock at 90 s: due at 150 s.
    vi.advanceTimersByTime(59 * SECOND)
    expect(h.outcomes).toEqual([])
    vi.advanceTimersByTime(1 * SECOND)
    expect(h.outcomes).toHaveLength(1)
    vi.advanceTimersByTime(30 * SECOND)
    h.sample('rssi_dbm', -90)
    expect(h.outcomes).toEqual([
      { type: 'raise', at: T0 + 150 * SECOND, value: null, reason: 'no data for 90s', reasonDetail: { key: 'nodata.silent', afterMs: 90 * SECOND }, connectivity: 'nodata' },
      { type: 'clear', at: T0 + 180 * SECOND, value: null, reason: 'data received again', reasonDetail: { key: 'nodata.data' } },
    ])
  })

  it('never raises while readings keep coming', () => {
    const h = Harness.for(offline).series('cover_tilt_deg', Array<number>(100).fill(1), 60 * SECOND)
    expect(h.outcomes).toEqual([])
  })

  it('raises at once on a Last Will `offline` and clears on `online`', () => {
    const h = Harness.for(offline).sample('battery_pct', 80)
    vi.advanceTimersByTime(10 * SECOND)
    h.status('offline')
    vi.advanceTimersByTime(5 * MINUTE)
    h.status('online')
    expect(h.outcomes).toEqual([
      { type: 'raise', at: T0 + 10 * SECOND, value: null, reason: 'device reported offline (Last Will)', reasonDetail: { key: 'nodata.offline', graceMs: 0 }, connectivity: 'offline' },
      { type: 'clear', at: T0 + 310 * SECOND, value: null, reason: 'device back online', reasonDetail: { key: 'nodata.online' } },
    ])
  })

  it('rides out a reconnect within the grace, and raises after it otherwise', () => {
    const graceful = rule({ type: 'nodata', scope: { kind: 'manhole' }, params: { factor: 3, offlineGrace: '20s' } })
    const h = Harness.for(graceful).sample('battery_pct', 80)
    h.status('offline')
    vi.advanceTimersByTime(15 * SECOND)
    h.status('online').sample('battery_pct', 80)
    expect(h.outcomes).toEqual([])
    h.status('offline')
    vi.advanceTimersByTime(30 * SECOND)
    expect(h.transitions()).toEqual([{ type: 'raise', at: 35 * SECOND }])
    expect(h.outcomes[0]).toMatchObject({ connectivity: 'offline', reason: 'device reported offline (Last Will) and did not return within 20s' })
  })

  it('counts `online` as heard from: a device that connects and then says nothing raises later', () => {
    const h = Harness.for(offline).status('online')
    vi.advanceTimersByTime(2 * MINUTE)
    expect(h.transitions()).toEqual([{ type: 'raise', at: 90 * SECOND }])
    expect(h.outcomes[0]?.connectivity).toBe('nodata')
  })

  it('clears on data stamped after the Last Will even if `online` never arrives, not on older data', () => {
    const h = Harness.for(offline).sample('battery_pct', 80)
    vi.advanceTimersByTime(10 * SECOND)
    h.status('offline')
    // A gateway's late batch, stamped before the Last Will, does not mean the device is back.
    h.ev.onSample({ metric: 'battery_pct', ts: T0 + 5 * SECOND, value: 80 })
    expect(h.ev.active).toBe(true)
    vi.advanceTimersByTime(10 * SECOND)
    h.sample('battery_pct', 79)
    expect(h.transitions()).toEqual([
      { type: 'raise', at: 10 * SECOND },
      { type: 'clear', at: 20 * SECOND },
    ])
  })

  it('ignores a stale status: an `offline` older than the latest reading, an `online` older than the Last Will', () => {
    const h = Harness.for(offline).sample('battery_pct', 80)
    h.ev.onStatus('offline', T0 - MINUTE)
    expect(h.ev.active).toBe(false)
    vi.advanceTimersByTime(10 * SECOND)
    h.status('offline')
    h.ev.onStatus('online', T0 + 5 * SECOND)
    expect(h.ev.active).toBe(true)
    expect(h.transitions()).toEqual([{ type: 'raise', at: 10 * SECOND }])
  })

  it('uses `after` instead of the expected interval when set', () => {
    const fixed = rule({ type: 'nodata', scope: { kind: 'gateway' }, params: { after: '5m' } })
    const h = Harness.for(fixed, { expectedIntervalMs: SECOND }).sample('rssi_dbm', -80)
    vi.advanceTimersByTime(10 * MINUTE)
    expect(h.transitions()).toEqual([{ type: 'raise', at: 5 * MINUTE }])
  })

  it('raises for a device never heard from, counting from the first tick', () => {
    const h = Harness.for(offline)
    expect(h.ev.nextDeadline()).toBeUndefined()
    expect(h.ev.onTick(T0)).toEqual([])
    expect(h.ev.nextDeadline()).toBe(T0 + 90 * SECOND)
    expect(h.ev.onTick(T0 + 90 * SECOND)).toMatchObject([{ type: 'raise', at: T0 + 90 * SECOND, connectivity: 'nodata' }])
  })

  it('raises then clears for a gap found only when the next reading arrives (a replay, a late scheduler)', () => {
    const h = Harness.for(offline)
    const out = [
      ...h.ev.onSample({ metric: 'battery_pct', ts: T0, value: 80 }),
      ...h.ev.onSample({ metric: 'battery_pct', ts: T0 + 10 * MINUTE, value: 80 }),
    ]
    expect(out.map((o) => [o.type, o.at - T0])).toEqual([
      ['raise', 90 * SECOND],
      ['clear', 10 * MINUTE],
    ])
  })
})
