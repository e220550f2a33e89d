// Metric values as people read them: localised name, value with its unit, booleans as yes/no.
// The catalogue (units, ranges, which metrics are booleans) is the one in core/contract.ts.
import { METRICS, type DeviceKind } from '../../../shared/metric-catalogue.ts'
import { metricName, num, t, unitLabel } from '../i18n/index.ts'

interface Spec {
  unit: string
  boolean?: true
}

export function specOf(kind: DeviceKind, metric: string): Spec | undefined {
  const specs: Record<string, Spec> = METRICS[kind]
  return Object.hasOwn(specs, metric) ? specs[metric] : undefined
}

export function metricsOf(kind: DeviceKind): string[] {
  return Object.keys(METRICS[kind])
}

export function formatValue(kind: DeviceKind, metric: string, value: number): string {
  const spec = specOf(kind, metric)
  if (spec?.boolean) return value >= 1 ? t('common.yes') : t('common.no')
  const unit = spec ? unitLabel(spec.unit) : ''
  return unit === '' ? num(value) : unit === '°' ? `${num(value)}°` : `${num(value)} ${unit}`
}

export function metricLabel(kind: DeviceKind, metric: string): string {
  const spec = specOf(kind, metric)
  const unit = spec && !spec.boolean ? unitLabel(spec.unit) : ''
  return unit ? `${metricName(metric)} (${unit})` : metricName(metric)
}
