// A way to sign in through another organisation's directory (issue 20): the browser is sent to the
// provider's page with a redirect URI and a state, the provider sends it back with a one-time
// code, and the server exchanges the code for the provider's id of the person. WeCom fits this
// shape (core/sso/wecom.ts); mapping that id to a housing-brain user is the caller's.

export type SignInMode = 'app' | 'qr'

export interface SignInProvider {
  readonly id: string
  /**
   * Where to send the browser: `app` signs in someone inside the provider's own app (a phone),
   * `qr` a desktop browser by a QR code scanned with it.
   */
  authorizeUrl(p: { redirectUri: string; state: string; mode: SignInMode }): string
  /** The provider's id of the person a code was issued for; throws an AppError saying why not. */
  userOf(code: string): Promise<string>
}
