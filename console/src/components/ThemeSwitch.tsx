// The light/dark switch of the top bar: one small button showing the theme it switches to.
import { t } from '../i18n/index.ts'
import { effectiveTheme, theme, toggleTheme } from '../lib/theme.ts'
import { useStore } from '../lib/store.ts'

export function ThemeSwitch() {
  const choice = useStore(theme)
  const dark = effectiveTheme(choice) === 'dark'
  const label = dark ? t('theme.toLight') : t('theme.toDark')
  return (
    <button type="button" class="ghost icon" id="theme" aria-label={label} title={label} aria-pressed={dark} onClick={toggleTheme}>
      <span aria-hidden="true">{dark ? '☀' : '☾'}</span>
    </button>
  )
}
