// The registry (admin/operator): property companies, communities with the history of who looked
// after them, and devices with their secrets. One tab per resource, each its own route
// (#/registry/companies …) so a link opens the same tab.
import { t } from '../i18n/index.ts'
import { href } from '../lib/router.ts'
import { Communities } from './registry/Communities.tsx'
import { Companies } from './registry/Companies.tsx'
import { DeviceAdmin } from './registry/DeviceAdmin.tsx'

const TABS = ['companies', 'communities', 'devices'] as const
type Tab = (typeof TABS)[number]

export function Registry({ tab }: { tab: string | undefined }) {
  const current: Tab = TABS.find((x) => x === tab) ?? 'companies'
  return (
    <section class="registry">
      <h1>{t('registry.title')}</h1>
      <nav class="tabs" aria-label={t('registry.title')}>
        {TABS.map((x) => (
          <a key={x} href={href('registry', x)} data-tab={x} aria-current={x === current ? 'page' : undefined}>
            {t(`registry.${x}`)}
          </a>
        ))}
      </nav>
      {current === 'companies' ? <Companies /> : current === 'communities' ? <Communities /> : <DeviceAdmin />}
    </section>
  )
}
