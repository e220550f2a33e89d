// The score's formula in force for the period on the ranking screen, read only
// (GET /api/v1/evaluation/weights?at=): which weights version scores it and each component's
// weight. Changing the weights is an admin's API call (README "Evaluation").
import { useEffect, useState } from 'preact/hooks'
import { dateOnly, t } from '../i18n/index.ts'
import { api } from '../lib/api.ts'

/** The components in the API's order; a version's weight of 0 leaves one out of the formula. */
const COMPONENTS = ['ack', 'resolve', 'speed', 'quality', 'satisfaction', 'hotlineOnTime', 'hotlineSatisfaction'] as const

interface Version {
  version: number
  effectiveFrom: string
  weights: Record<(typeof COMPONENTS)[number], number>
}

/** `at`: the period's start; the version in force then scored it. */
export function ScoreFormula({ at }: { at: string }) {
  const [v, setV] = useState<Version | null>(null)
  useEffect(() => void api<{ inForce: Version }>(`/api/v1/evaluation/weights?at=${encodeURIComponent(at)}`).then((r) => setV(r.inForce)), [at])
  if (!v) return null
  const weighed = COMPONENTS.filter((c) => v.weights[c] > 0)
  return (
    <details class="score-formula" id="score-formula">
      <summary>
        {v.version === 0 ? t('formula.builtIn') : t('formula.version', { version: v.version, from: dateOnly(v.effectiveFrom) })}
      </summary>
      <p>{t('formula.rule')}</p>
      <ul class="history-summary">
        {weighed.map((c) => (
          <li key={c}>
            {t(`component.${c}`)} <b>{Math.round(v.weights[c] * 1000) / 10}%</b>
          </li>
        ))}
      </ul>
    </details>
  )
}
