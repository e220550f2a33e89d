// Who is signed in (with a token, or with a name and password: a session cookie), and the views
// their role may open. A session whose password an admin set can only change it first; one owing
// the set-up of one-time codes (TOTP_REQUIRED) can only set them up. With one-time codes on, the
// password gives a ticket, and the ticket and a code the session.
import { startAlerts, stopAlerts } from './alerts.ts'
import { api, session, setSession, setToken, token } from './api.ts'
import { clearRegistry, loadRegistry } from './registry.ts'
import { store } from './store.ts'
import type { Me, Role } from './types.ts'

export type View = 'overview' | 'board' | 'map' | 'devices' | 'ranking' | 'registry' | 'rules' | 'oncall' | 'silences' | 'deadletters' | 'audit' | 'users' | 'crew' | 'resident'

/**
 * The office's desk, the overview first; users and tokens are the administrator's alone (the API
 * refuses others). The on-call set-up is the office's: the API lets a company's managers manage
 * their own company's too, but they work in the crew app.
 */
const DESK: View[] = ['overview', 'board', 'map', 'devices', 'ranking', 'registry', 'rules', 'oncall', 'silences', 'deadletters', 'audit']

export const NAV: Record<Role, View[]> = {
  admin: [...DESK, 'users'],
  operator: DESK,
  crew: ['crew', 'board', 'map'],
  resident: ['resident'],
  service: [],
  // Their street's board, devices and ranking, read-only (the API refuses every change).
  street_officer: ['board', 'devices', 'ranking'],
}

export const me = store<Me | null>(null)
/** The account panel (signed in with a password: change it, sign out here or everywhere) is open. */
export const accountOpen = store(false)

/** The signed-in user from GET /me; the console starts once no password change is owed. */
async function enter(): Promise<Me> {
  const user = await api<Me>('/api/v1/me')
  if (user.csrf !== undefined) setSession({ csrf: user.csrf })
  if (user.mustChangePassword || user.totp?.mustEnrol) {
    me.set(user)
    return user
  }
  await loadRegistry(user)
  me.set(user)
  if (user.role !== 'resident' && user.role !== 'service') void startAlerts(true).catch(() => undefined)
  return user
}

export async function signIn(token: string): Promise<Me> {
  setSession(null)
  setToken(token)
  return enter()
}

/** The password's answer: signed in, or a ticket for the second step (one-time codes are on). */
export async function signInWithPassword(name: string, password: string): Promise<Me | { ticket: string }> {
  setToken(null)
  const answer = await api<{ csrf: string } | { totpRequired: true; ticket: string }>('/api/v1/session', { body: { name, password } })
  if ('ticket' in answer) return { ticket: answer.ticket }
  setSession(answer)
  return enter()
}

/** The second step: the ticket of the password and a code of the authenticator app (or a recovery code). */
export async function signInWithCode(ticket: string, code: string): Promise<Me> {
  setSession(await api<{ csrf: string }>('/api/v1/session/totp', { body: { ticket, code } }))
  return enter()
}

/** Asks who is signed in again (one-time codes turned on or off); a set-up that was owed lets the console start. */
export async function refreshMe(): Promise<void> {
  const owed = me.get()?.totp?.mustEnrol === true
  if (owed) await enter()
  else me.set(await api<Me>('/api/v1/me'))
}

/**
 * Back from signing in with WeCom or DingTalk: the callback set the cookie and sent the browser to
 * /console/?signIn=wecom (or dingtalk), or to ?signInError=<code> when it refused. Read once at load, then
 * dropped from the address (a reload or a shared link must not repeat it).
 */
export const redirected = ((): { signedIn: boolean; error: string | null } => {
  const q = new URLSearchParams(location.search)
  const out = { signedIn: q.has('signIn'), error: q.get('signInError') }
  if (q.has('signIn') || q.has('signInError')) history.replaceState(null, '', `${location.pathname}${location.hash}`)
  return out
})()

/** The ways to sign in besides a password that the server offers (GET /api/v1/session/providers). */
export async function signInProviders(): Promise<{ wecom: boolean; dingtalk: boolean }> {
  return api<{ wecom: boolean; dingtalk: boolean }>('/api/v1/session/providers').catch(() => ({ wecom: false, dingtalk: false }))
}

/** Signed in by a redirect (WeCom, DingTalk): the cookie is set; GET /me gives the user and the CSRF value. */
export async function enterAfterRedirect(): Promise<Me> {
  setToken(null)
  return enter()
}

/** After a reload: the cookie's session, if it still works. */
export async function resumeSession(): Promise<Me | null> {
  return session.get() ? enter() : null
}

/** Changes the password; a change that was owed lets the console start. */
export async function changePassword(current: string, next: string): Promise<void> {
  await api('/api/v1/me/password', { method: 'PUT', body: { current, next } })
  if (me.get()?.mustChangePassword) await enter()
}

/** Ends every session of the user (other phones, a forgotten office PC), this one too. */
export async function signOutEverywhere(): Promise<void> {
  await api('/api/v1/sessions', { method: 'DELETE' })
  // Already ended on the server: forgetting the session signs out here (the subscriber below).
  setSession(null)
}

export function signOut(): void {
  // First, so that forgetting the session below does not sign out again (the subscriber at the end).
  me.set(null)
  // The session ends on the server too; the page is signed out whatever the answer. The request
  // takes its CSRF header before its first await, so the session can be forgotten at once.
  if (session.get()) void api('/api/v1/session', { method: 'DELETE' }).catch(() => undefined)
  setSession(null)
  accountOpen.set(false)
  stopAlerts()
  clearRegistry()
  setToken(null)
}

// A session the server ended (idle, too old, signed out elsewhere: a 401, api.ts forgets it)
// leaves the console for the sign-in form rather than a page of errors.
session.subscribe((live) => {
  if (!live && me.get() !== null && token.get() === null) signOut()
})
