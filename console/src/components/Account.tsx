// The account panel of someone signed in with a password: who they are, changing the password,
// two-step sign-in for the roles offered it, and signing out of this phone or of every device
// (DELETE /api/v1/session, /api/v1/sessions).
import { t } from '../i18n/index.ts'
import { accountOpen, signOut, signOutEverywhere } from '../lib/session.ts'
import type { Me } from '../lib/types.ts'
import { ChangePassword } from './ChangePassword.tsx'
import { TotpSetup } from './TotpSetup.tsx'

export function Account({ user }: { user: Me }) {
  return (
    <section class="account" id="account-panel" aria-labelledby="account-title">
      <div class="card">
        <h2 id="account-title">{t('account.title')}</h2>
        <p>
          {user.name} · {t(`role.${user.role}`)}
        </p>
        <div class="row-buttons">
          <button type="button" class="primary big" id="sign-out" onClick={signOut}>
            {t('signout')}
          </button>
          <button type="button" id="sign-out-everywhere" onClick={() => void signOutEverywhere().catch(() => signOut())}>
            {t('account.everywhere')}
          </button>
          <button type="button" class="ghost" id="account-close" onClick={() => accountOpen.set(false)}>
            {t('account.close')}
          </button>
        </div>
      </div>
      {user.totp?.offered && <TotpSetup user={user} forced={false} />}
      <ChangePassword forced={false} />
    </section>
  )
}
