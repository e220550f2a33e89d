// The deadline that matters now: acknowledge while open, resolve after that; red once overdue.
import { duration, t } from '../i18n/index.ts'
import { now } from '../lib/clock.ts'
import { useStore } from '../lib/store.ts'
import type { Alert } from '../lib/types.ts'

export function dueOf(a: Alert): { which: 'ack' | 'resolve'; at: number } | null {
  if (a.state === 'resolved') return null
  return a.state === 'open' ? { which: 'ack', at: Date.parse(a.ackDeadline) } : { which: 'resolve', at: Date.parse(a.resolveDeadline) }
}

export function Deadline({ alert }: { alert: Alert }) {
  const at = useStore(now)
  const due = dueOf(alert)
  if (!due) return <span class="muted">{t('common.none')}</span>
  const left = due.at - at
  const overdue = left <= 0
  return (
    <span class={overdue ? 'deadline overdue' : 'deadline'}>
      {t(due.which === 'ack' ? 'deadline.ack' : 'deadline.resolve')}{' '}
      {overdue ? t('deadline.overdue', { d: duration(-left) }) : t('deadline.in', { d: duration(left) })}
    </span>
  )
}
