// A 1–5 rating as five radio buttons (keyboard- and screen-reader-friendly).
import { t } from '../i18n/index.ts'

export function Stars({ name, value, onChange }: { name: string; value: number; onChange: (n: number) => void }) {
  return (
    <div class="stars" role="radiogroup">
      {[1, 2, 3, 4, 5].map((n) => (
        <label key={n} title={t('resident.stars', { n })}>
          <input type="radio" name={name} value={n} checked={value === n} onChange={() => onChange(n)} />
          <span aria-hidden="true">{n <= value ? '★' : '☆'}</span>
          <span class="sr-only">{t('resident.stars', { n })}</span>
        </label>
      ))}
    </div>
  )
}
