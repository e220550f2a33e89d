// The built-in weights version gives exactly the scores of the weights it is built from (today's
// EVAL_WEIGHTS), hotline figures or not; a version that weighs the hotline scores it; picking the
// version in force at a period's start.
import { describe, expect, it } from 'vitest'
import { DEFAULT_WEIGHTS, score, type Weights } from '../../alerts/score.ts'
import { builtInVersion, formula, fromStored, versionAt } from '../../alerts/weights.ts'
import type { CompanyFigures } from '../../core/repos/evaluation.ts'

/** A small deterministic generator, so a failure names figures that can be replayed. */
function lcg(seed: number): () => number {
  let s = seed
  return () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)
}

function figures(r: () => number): CompanyFigures {
  const due = Math.floor(r() * 20)
  const resolved = Math.floor(r() * 20)
  const maybe = <T>(v: T): T | null => (r() < 0.2 ? null : v)
  return {
    companyId: 'co',
    name: 'co',
    alerts: due,
    bySeverity: { critical: 0, major: due, minor: 0, warning: 0 },
    selfCleared: 0,
    ttaMedianS: null, ttaP90S: null, ttrMedianS: null, ttrP90S: null, ttArriveMedianS: null, ttArriveP90S: null,
    resolveWindowUsedMedian: maybe(r() * 1.5),
    ackDue: due,
    ackMet: Math.floor(r() * (due + 1)),
    resolveDue: due,
    resolveMet: Math.floor(r() * (due + 1)),
    resolved,
    reopened: Math.floor(r() * (resolved + 1)),
    satisfactionMean: maybe(1 + r() * 4),
    satisfactionCount: 3,
    satisfactionRaters: 2,
  }
}

describe('score weights versions', () => {
  it('the built-in version gives the same score as the weights it is built from, for 2,000 companies', () => {
    const r = lcg(22)
    const custom: Weights = { ack: 0.3, resolve: 0.1, speed: 0, quality: 0.2, satisfaction: 0.4 }
    for (const weights of [DEFAULT_WEIGHTS, custom]) {
      const v = builtInVersion(weights)
      expect(v).toMatchObject({ version: 0, effectiveFrom: new Date(0), weights: { ...weights, hotlineOnTime: 0, hotlineSatisfaction: 0 } })
      for (let i = 0; i < 1000; i++) {
        const f = figures(r)
        const hotline = { due: 4, onTime: 1, satisfactionMean: 2 }
        expect(score(f, v.weights, hotline)).toBe(score(f, weights))
      }
    }
  })

  it('scores the hotline components when a version weighs them', () => {
    const f = figures(lcg(1))
    const w = fromStored({ version: 1, effectiveFrom: new Date(0), weights: { hotlineOnTime: 0.5, hotlineSatisfaction: 0.5 }, note: 'x', createdBy: 'a', createdAt: new Date(0) }).weights
    // On time 3 of 4 = 0.75; satisfaction (4 − 1) / 4 = 0.75 → 75.
    expect(score(f, w, { due: 4, onTime: 3, satisfactionMean: 4 })).toBe(75)
    // Without hotline data the company has no score under this version.
    expect(score(f, w, undefined)).toBeNull()
    expect(formula(w)).toBe('score = 100 × (0.5·hotlineOnTime + 0.5·hotlineSatisfaction) ÷ (sum of the weights of the components with data), rounded to 0.1')
  })

  it('picks the newest version that took effect by the period start', () => {
    const builtIn = builtInVersion(DEFAULT_WEIGHTS)
    const v = (version: number, at: string) => ({ ...builtIn, version, effectiveFrom: new Date(at) })
    const versions = [v(2, '2026-07-01T00:00:00Z'), v(1, '2026-04-01T00:00:00Z')]
    expect(versionAt(versions, builtIn, new Date('2026-03-31T23:59:59Z')).version).toBe(0)
    expect(versionAt(versions, builtIn, new Date('2026-04-01T00:00:00Z')).version).toBe(1)
    expect(versionAt(versions, builtIn, new Date('2026-06-30T00:00:00Z')).version).toBe(1)
    expect(versionAt(versions, builtIn, new Date('2026-07-01T00:00:00Z')).version).toBe(2)
  })
})
