// The browser's part of signing in with WeCom or DingTalk, played against the API with the cookies
// a browser would hold: the button's redirect to the provider, the provider's page (a local one,
// test/helpers/wecom-server.ts or dingtalk-server.ts) sending it back, and the callback.
import { expect } from 'vitest'
import type { App } from '../../api/app.ts'

/** The `name=value…` Set-Cookie line of `name`, if one was set. */
export const setCookieOf = (setCookie: unknown, name: string) =>
  [setCookie].flat().map(String).find((c) => c.startsWith(`${name}=`))

export function signInFlow(app: () => App, provider: 'wecom' | 'dingtalk') {
  return {
    /** The start: the API's redirect to the provider and the state cookie it set. */
    start: async (ua: string) => {
      const res = await app().inject({ method: 'GET', url: `/api/v1/session/${provider}`, headers: { 'user-agent': ua } })
      expect(res.statusCode).toBe(302)
      const state = setCookieOf(res.headers['set-cookie'], 'hb_signin_state') ?? ''
      return { location: String(res.headers.location), stateCookie: state.split(';')[0] ?? '', setCookie: state }
    },
    /** The provider's page, signed in as whoever the local provider names: where it sends the browser back. */
    atProvider: async (location: string): Promise<URL> => {
      const res = await fetch(location, { redirect: 'manual' })
      expect(res.status).toBe(302)
      return new URL(res.headers.get('location') ?? '')
    },
    callback: async (back: URL, cookie: string, remoteAddress = '127.0.0.1') => {
      const res = await app().inject({ method: 'GET', url: `${back.pathname}${back.search}`, headers: { cookie }, remoteAddress })
      expect(res.statusCode).toBe(303)
      return { res, location: String(res.headers.location), session: setCookieOf(res.headers['set-cookie'], 'hb_session')?.split(';')[0] }
    },
  }
}
