// On-call and notifications (值班与通知; admin/operator): who is told of an alert and how, set up
// here rather than through the API — the channels (with a test message), people's contact points,
// the rotas (a timeline of who is on call, swaps and covers, the hand-over register) and the
// escalation policies. One owner at a time, the housing office or a company; one tab per resource,
// each its own route (#/oncall/rotas …) so a link opens the same tab.
import { t } from '../i18n/index.ts'
import { choices, registry } from '../lib/registry.ts'
import { href } from '../lib/router.ts'
import { useStore } from '../lib/store.ts'
import { Channels } from './oncall/Channels.tsx'
import { Contacts } from './oncall/Contacts.tsx'
import { owner } from './oncall/owner.ts'
import { Policies } from './oncall/Policies.tsx'
import { Rotas } from './oncall/Rotas.tsx'

const TABS = ['channels', 'contacts', 'rotas', 'policies'] as const
type Tab = (typeof TABS)[number]

export function OnCall({ tab }: { tab: string | undefined }) {
  const current: Tab = TABS.find((x) => x === tab) ?? 'channels'
  const reg = useStore(registry)
  const who = useStore(owner)
  return (
    <section class="oncall">
      <h1>{t('oncall.title')}</h1>
      <div class="bar">
        <label>
          <span>{t('oncall.owner')}</span>
          <select id="oncall-owner" value={who} onChange={(e) => owner.set(e.currentTarget.value)}>
            <option value="">{t('oncall.office')}</option>
            {choices(reg.companies).map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <nav class="tabs" aria-label={t('oncall.title')}>
        {TABS.map((x) => (
          <a key={x} href={href('oncall', x)} data-tab={x} aria-current={x === current ? 'page' : undefined}>
            {t(`oncall.tab.${x}`)}
          </a>
        ))}
      </nav>
      {/* Keyed by the owner: a form half filled for one company is not carried over to another. */}
      {current === 'channels' ? <Channels key={who} /> : current === 'contacts' ? <Contacts key={who} /> : current === 'rotas' ? <Rotas key={who} /> : <Policies key={who} />}
    </section>
  )
}
