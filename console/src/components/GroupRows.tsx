// A group of alerts on the board (alerts/grouping.ts on the server: the same rule and community
// raised within the window of the first) as one row with its count, opened to its members' rows.
// Each member stays an alert: its own row, check box, filters and bulk actions; grouping only
// folds the rows the filters let through. A group of one shown alert is that alert's own row.
import type { VNode } from 'preact'
import { useState } from 'preact/hooks'
import { Sev, State } from './Badges.tsx'
import { Deadline } from './Deadline.tsx'
import { alertTitle, dateTime, t } from '../i18n/index.ts'
import { communityName, companyName } from '../lib/registry.ts'
import type { Alert } from '../lib/types.ts'

export type Entry = { a: Alert } | { groupId: number; members: Alert[] }

/**
 * The list folded by group, in its order: a group sits where its most urgent shown member is, its
 * members after it in list order. One pass with a map: thousands of alerts cost well under a millisecond.
 */
export function foldGroups(list: readonly Alert[]): Entry[] {
  const byGroup = new Map<number, Alert[]>()
  for (const a of list) {
    // By the group's id alone: an alert held since its raise still says groupSize 1 after others joined.
    if (a.groupId == null) continue
    const members = byGroup.get(a.groupId)
    if (members) members.push(a)
    else byGroup.set(a.groupId, [a])
  }
  const entries: Entry[] = []
  for (const a of list) {
    const members = a.groupId == null ? undefined : byGroup.get(a.groupId)
    if (!members || members.length < 2) entries.push({ a })
    else if (members[0] === a) entries.push({ groupId: a.groupId as number, members })
  }
  return entries
}

/** The alerts of entries, in order (what "select all shown" and the counts read). */
export const entryAlerts = (entries: readonly Entry[]): Alert[] => entries.flatMap((e) => ('a' in e ? [e.a] : e.members))

interface GroupRowsProps {
  groupId: number
  members: Alert[]
  /** The members' own rows, drawn when the group is open. */
  row: (a: Alert) => VNode
  isChecked: (id: number) => boolean
  onCheck: (id: number, on: boolean) => void
}

export function GroupRows({ groupId, members, row, isChecked, onCheck }: GroupRowsProps) {
  const [open, setOpen] = useState(false)
  const lead = members[0] as Alert
  const openOnes = members.filter((a) => a.state === 'open')
  const toggle = () => setOpen(!open)
  const first = members.reduce((x, a) => (a.raisedAt < x.raisedAt ? a : x), lead)
  const n = members.length
  return (
    <>
      <tr class={`alert-row group-row ${lead.state}${open ? ' expanded' : ''}`} data-group={groupId} onClick={toggle}>
        <td class="check" onClick={(e) => e.stopPropagation()}>
          <input
            type="checkbox"
            aria-label={t('group.select', { n, title: alertTitle(lead) })}
            checked={openOnes.length > 0 && openOnes.every((a) => isChecked(a.id))}
            disabled={openOnes.length === 0}
            onChange={(e) => {
              for (const a of openOnes) onCheck(a.id, e.currentTarget.checked)
            }}
          />
        </td>
        <td class="sev" data-label={t('col.severity')}>
          <Sev s={lead.severity} />
        </td>
        <td class="title" data-label={t('col.title')}>
          <button
            type="button"
            class="link group-toggle"
            aria-expanded={open}
            onClick={(e) => {
              e.stopPropagation()
              toggle()
            }}
          >
            <span aria-hidden="true">{open ? '▾' : '▸'} </span>
            {alertTitle(lead)}
          </button>{' '}
          <span class="group-count">{t('group.count', { n })}</span>
        </td>
        <td data-label={t('col.where')}>{communityName(lead.communityId)}</td>
        <td data-label={t('col.company')}>{companyName(lead.companyId)}</td>
        <td class="state" data-label={t('col.state')}>
          {openOnes.length > 0 ? t('group.open', { n: openOnes.length }) : <State s={lead.state} />}
        </td>
        <td data-label={t('col.raised')}>{dateTime(first.raisedAt)}</td>
        <td data-label={t('col.deadline')}>
          <Deadline alert={lead} />
        </td>
      </tr>
      {open && members.map(row)}
    </>
  )
}
