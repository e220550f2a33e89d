// Checks readings against the metric catalogue of core/contract.ts: the one source of truth.
import { expect } from 'vitest'
import { METRICS, metricSpec, type DeviceKind } from '../../core/contract.ts'

/** Every catalogue metric of `kind` present, nothing else, each of the right type and in range. */
export function expectInCatalogue(kind: DeviceKind, values: Record<string, number | boolean>): void {
  expect(Object.keys(values).sort()).toEqual(Object.keys(METRICS[kind]).sort())
  for (const [metric, value] of Object.entries(values)) {
    const spec = metricSpec(kind, metric)
    if (!spec) throw new Error(`${kind}.${metric} is not in the catalogue`)
    if (spec.boolean) {
      expect(typeof value, `${kind}.${metric}`).toBe('boolean')
      continue
    }
    if (typeof value !== 'number') throw new Error(`${kind}.${metric} = ${String(value)} is not a number`)
    expect(Number.isFinite(value), `${kind}.${metric} finite`).toBe(true)
    expect(value, `${kind}.${metric}`).toBeGreaterThanOrEqual(spec.min)
    expect(value, `${kind}.${metric}`).toBeLessThanOrEqual(spec.max)
  }
}

/** Whether every value is a known metric of `kind` within its range (no assertions, for filtering). */
export function fitsCatalogue(kind: DeviceKind, values: Record<string, number | boolean>): boolean {
  return Object.entries(values).every(([metric, value]) => {
    const spec = metricSpec(kind, metric)
    if (!spec) return false
    if (typeof value === 'boolean') return spec.boolean === true
    return value >= spec.min && value <= spec.max
  })
}

/** Midnight, 1 June 2024, in Shanghai (UTC+8), the models' default time zone. */
export const MIDNIGHT = Date.UTC(2024, 4, 31, 16, 0)
export const MINUTE = 60_000
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR
