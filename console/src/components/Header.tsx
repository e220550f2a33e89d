// The top bar: the role's views, the live indicator, the sound switch, language, light/dark, and sign-out
// (signed in with a password: the account panel, with changing the password and signing out).
import { t } from '../i18n/index.ts'
import { muted, setMuted, unlockAudio } from '../lib/cue.ts'
import { connected } from '../lib/live.ts'
import { href, route } from '../lib/router.ts'
import { session } from '../lib/api.ts'
import { accountOpen, signOut, type View } from '../lib/session.ts'
import { useStore } from '../lib/store.ts'
import type { Me } from '../lib/types.ts'
import { LangSwitch } from './LangSwitch.tsx'
import { ThemeSwitch } from './ThemeSwitch.tsx'

const PARENT: Record<string, View> = { alert: 'board', device: 'devices' }

export function Header({ user, views }: { user: Me; views: View[] }) {
  const [name] = useStore(route)
  const live = useStore(connected)
  const quiet = useStore(muted)
  const cookie = useStore(session)
  const panel = useStore(accountOpen)
  const current = name === undefined ? views[0] : (PARENT[name] ?? name)
  const streams = user.role !== 'resident'
  return (
    <header class="top">
      <strong class="brand">{t('app.name')}</strong>
      <nav aria-label={t('app.name')}>
        {views.map((v) => (
          <a key={v} href={href(v)} data-view={v} aria-current={current === v ? 'page' : undefined}>
            {t(`nav.${v}`)}
          </a>
        ))}
      </nav>
      <div class="tools">
        {streams && (
          <span id="live" class={live ? 'live on' : 'live'}>
            {live ? t('live.on') : t('live.off')}
          </span>
        )}
        {streams && (
          <button
            type="button"
            class="ghost"
            id="sound"
            aria-pressed={!quiet}
            onClick={() => {
              unlockAudio()
              setMuted(!quiet)
            }}
          >
            {quiet ? t('sound.off') : t('sound.on')}
          </button>
        )}
        <LangSwitch />
        <ThemeSwitch />
        <span class="who" title={user.name}>
          {user.name} · {t(`role.${user.role}`)}
        </span>
        {cookie ? (
          // Signed in with a password: changing it and signing out (here or everywhere) are in the
          // account panel; one button keeps the header to two rows on a phone.
          <button type="button" class="ghost" id="account" aria-expanded={panel} onClick={() => accountOpen.set(!panel)}>
            {t('account.open')}
          </button>
        ) : (
          <button type="button" class="ghost" id="sign-out" onClick={signOut}>
            {t('signout')}
          </button>
        )}
      </div>
    </header>
  )
}
