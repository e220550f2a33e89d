// The shell: sign-in until there is a user, then the header and the view the route names, limited
// to the views the user's role may open.
import { useEffect, useState } from 'preact/hooks'
import { Header } from './components/Header.tsx'
import { Account } from './components/Account.tsx'
import { ChangePassword } from './components/ChangePassword.tsx'
import { TotpSetup } from './components/TotpSetup.tsx'
import { SignIn } from './components/SignIn.tsx'
import { lang, t } from './i18n/index.ts'
import { session, token } from './lib/api.ts'
import { route } from './lib/router.ts'
import { accountOpen, enterAfterRedirect, me, NAV, redirected, resumeSession, signIn, type View } from './lib/session.ts'
import { useStore } from './lib/store.ts'
import { Board } from './views/Board.tsx'
import { Crew } from './views/Crew.tsx'
import { Devices } from './views/Devices.tsx'
import { lazy } from './components/Lazy.tsx'

const MapView = lazy(() => import('./views/MapView.tsx').then((m) => m.MapView))
const SitePlan = lazy(() => import('./views/SitePlan.tsx').then((m) => m.SitePlan))
const DevicePage = lazy(() => import('./views/DevicePage.tsx').then((m) => m.DevicePage))
const Ranking = lazy(() => import('./views/Ranking.tsx').then((m) => m.Ranking))
const Resident = lazy(() => import('./views/Resident.tsx').then((m) => m.Resident))
const Registry = lazy(() => import('./views/Registry.tsx').then((m) => m.Registry))
const Rules = lazy(() => import('./views/Rules.tsx').then((m) => m.Rules))
const Silences = lazy(() => import('./views/Silences.tsx').then((m) => m.Silences))
const DeadLetters = lazy(() => import('./views/DeadLetters.tsx').then((m) => m.DeadLetters))
const Audit = lazy(() => import('./views/Audit.tsx').then((m) => m.Audit))
const Overview = lazy(() => import('./views/Overview.tsx').then((m) => m.Overview))
const Wall = lazy(() => import('./views/Wall.tsx').then((m) => m.Wall))
const Users = lazy(() => import('./views/Users.tsx').then((m) => m.Users))
const OnCall = lazy(() => import('./views/OnCall.tsx').then((m) => m.OnCall))

function Main({ views }: { views: View[] }) {
  const [name, arg] = useStore(route)
  const wanted = (name === 'alert' ? 'board' : name === 'device' ? 'devices' : name) as View
  const view = views.includes(wanted) ? wanted : views[0]
  switch (view) {
    case 'overview':
      return <Overview />
    case 'board':
      return <Board openId={name === 'alert' && arg ? Number(arg) : undefined} />
    case 'map':
      return arg ? <SitePlan communityId={arg} key={arg} /> : <MapView />
    case 'devices':
      return name === 'device' && arg ? <DevicePage id={arg} /> : <Devices />
    case 'ranking':
      return <Ranking companyId={arg} />
    case 'registry':
      return <Registry tab={arg} />
    case 'rules':
      return <Rules />
    case 'oncall':
      return <OnCall tab={arg} />
    case 'silences':
      return <Silences />
    case 'deadletters':
      return <DeadLetters />
    case 'audit':
      return <Audit />
    case 'users':
      return <Users />
    case 'crew':
      return <Crew />
    case 'resident':
      return <Resident />
    case undefined:
      return <p class="empty">{t('common.none')}</p>
  }
}

export function App() {
  const user = useStore(me)
  const saved = useStore(token)
  const cookie = useStore(session)
  const account = useStore(accountOpen)
  const wall = useStore(route)[0] === 'wall'
  useStore(lang)
  const [restoring, setRestoring] = useState((saved !== null || cookie || redirected.signedIn) && user === null)
  useEffect(() => {
    document.documentElement.lang = lang.get()
    if (user !== null) return
    // Back from WeCom signed in: the new session wins over a token saved earlier.
    const resume = redirected.signedIn ? enterAfterRedirect() : saved !== null ? signIn(saved) : resumeSession()
    void resume.catch(() => undefined).finally(() => setRestoring(false))
    // Only on first load: a later sign-in goes through the form.
  }, [])
  if (restoring) return <p class="empty">{t('common.loading')}</p>
  if (!user) return <SignIn />
  // A password an admin set is changed before anything else (the API refuses the rest).
  if (user.mustChangePassword) return <ChangePassword forced />
  // Then, where TOTP_REQUIRED is on, an office role without one-time codes sets them up.
  if (user.totp?.mustEnrol) return <TotpSetup user={user} forced />
  const views = NAV[user.role]
  // The wall screen (大屏) owns the whole display: no header; for those who may open the overview.
  if (wall && views.includes('overview')) return <Wall />
  return (
    <>
      <Header user={user} views={views} />
      <main>
        {account && <Account user={user} />}
        <Main views={views} />
      </main>
    </>
  )
}
