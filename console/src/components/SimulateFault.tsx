// "Simulate a fault" on a demo device (issue 21), for admins: the server says which faults this
// device may report (SIMULATE_FAULTS), and a press sends them through its ingest like the device's
// own readings; the rules engine raises the alert a moment later, and the page reloads its alerts.
import { useEffect, useState } from 'preact/hooks'
import { t } from '../i18n/index.ts'
import { api } from '../lib/api.ts'

type Fault = 'entrapment' | 'cover_displaced' | 'low_level'

interface Offer {
  faults: Fault[]
  refusal: string | null
}

export function SimulateFault({ deviceId, onSent }: { deviceId: string; onSent: () => void }) {
  const [offer, setOffer] = useState<Offer | null>(null)
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null)
  const [busy, setBusy] = useState(false)
  const path = `/api/v1/devices/${encodeURIComponent(deviceId)}/simulate-fault`
  useEffect(() => {
    void api<Offer>(path).then(setOffer, () => setOffer(null))
  }, [path])
  if (offer === null || offer.faults.length === 0) return null
  const send = (fault: Fault) => {
    setBusy(true)
    api<{ stored: number }>(path, { method: 'POST', body: { fault } })
      .then(
        () => {
          setOutcome({ ok: true, text: t('simulate.sent', { fault: t(`simulate.fault.${fault}`) }) })
          onSent()
        },
        (err: unknown) => setOutcome({ ok: false, text: err instanceof Error ? err.message : String(err) }),
      )
      .finally(() => setBusy(false))
  }
  return (
    <details class="simulate" id="simulate-fault">
      <summary>{t('simulate.title')}</summary>
      <p class="muted small">{t('simulate.hint')}</p>
      {offer.faults.map((f) => (
        <button key={f} type="button" data-fault={f} disabled={busy} onClick={() => send(f)}>
          {t(`simulate.fault.${f}`)}
        </button>
      ))}
      {outcome && (
        <p role="status" id="simulate-outcome" class={outcome.ok ? 'ok' : 'error'}>
          {outcome.text}
        </p>
      )}
    </details>
  )
}
