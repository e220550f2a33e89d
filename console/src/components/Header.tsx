// The top bar: the role's views, the live indicator, the sound switch, language and sign-out.
import { t } from '../i18n/index.ts'
import { muted, setMuted, unlockAudio } from '../lib/cue.ts'
import { connected } from '../lib/live.ts'
import { href, route } from '../lib/router.ts'
import { signOut, type View } from '../lib/session.ts'
import { useStore } from '../lib/store.ts'
import type { Me } from '../lib/types.ts'
import { LangSwitch } from './LangSwitch.tsx'

const PARENT: Record<string, View> = { alert: 'board', device: 'devices' }

export function Header({ user, views }: { user: Me; views: View[] }) {
  const [name] = useStore(route)
  const live = useStore(connected)
  const quiet = useStore(muted)
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
        <span class="who" title={user.name}>
          {user.name} · {t(`role.${user.role}`)}
        </span>
        <button type="button" class="ghost" onClick={signOut}>
          {t('signout')}
        </button>
      </div>
    </header>
  )
}
