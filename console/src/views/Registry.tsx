// The registry (admin/operator): property companies, streets (街道/镇), communities with the history of who looked
// after them, devices with their secrets (one by one or imported from CSV), and device profiles. One tab per resource, each its own route
// (#/registry/companies …) so a link opens the same tab.
import { t } from '../i18n/index.ts'
import { href } from '../lib/router.ts'
import { Communities } from './registry/Communities.tsx'
import { Companies } from './registry/Companies.tsx'
import { DeviceAdmin } from './registry/DeviceAdmin.tsx'
import { Profiles } from './registry/Profiles.tsx'
import { Streets } from './registry/Streets.tsx'

const TABS = ['companies', 'streets', 'communities', 'devices', 'profiles'] as const
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
      {current === 'companies' ? <Companies /> : current === 'streets' ? <Streets /> : current === 'communities' ? <Communities /> : current === 'devices' ? <DeviceAdmin /> : <Profiles />}
    </section>
  )
}
