// Severity and state as labelled badges (colour is never the only signal: the word is there too).
import { t } from '../i18n/index.ts'
import type { AlertState, Severity } from '../lib/types.ts'

export const Sev = ({ s }: { s: Severity }) => <span class={`badge sev-${s}`}>{t(`severity.${s}`)}</span>
export const State = ({ s }: { s: AlertState }) => <span class={`badge state-${s}`}>{t(`state.${s}`)}</span>
