// Grouping (issue 21), like Alertmanager's group_by and group_wait but durable and simpler:
// alerts with the same values of the grouping keys (rule and community by default) raised within
// a window of the first form one group. The board shows a group as one row; notifications page
// for the first alert and send one digest for the rest when the window closes (notify/outbox.ts).
// The ranking still counts every alert: grouping changes what people see, not what is recorded.
// The group lives in the database (core/repos/alert-groups.ts), so several API processes raising
// at once for one key find one group.
import type { Queryable } from '../core/db/client.ts'
import { joinOpenGroup, openGroup } from '../core/repos/alert-groups.ts'
import type { GROUP_KEYS } from '../core/settings.ts'

export interface GroupingPolicy {
  /** 0 = off. */
  windowMs: number
  /** What a group's alerts share; empty = off. */
  by: readonly (typeof GROUP_KEYS)[number][]
}

export const NO_GROUPING: GroupingPolicy = { windowMs: 0, by: [] }

/** The part of a new alert the keys read. */
export interface GroupedFields {
  ruleId: string
  communityId: string | null
  companyId: string | null
  severity: string
}

/** The group key of an alert, or undefined when grouping is off. */
export function groupKey(policy: GroupingPolicy, a: GroupedFields): string | undefined {
  if (policy.windowMs <= 0 || policy.by.length === 0) return undefined
  const value = { rule: a.ruleId, community: a.communityId, company: a.companyId, severity: a.severity }
  return policy.by.map((k) => `${k}=${value[k] ?? ''}`).join('|')
}

/**
 * Before the alert is inserted: the open group it joins (counted in), or undefined — then
 * `afterInsert` opens a group with it as the first member. Holds the key's lock to the commit.
 */
export async function joinGroup(tx: Queryable, policy: GroupingPolicy, a: GroupedFields, now: Date): Promise<{ key: string; groupId: number | undefined } | undefined> {
  const key = groupKey(policy, a)
  if (key === undefined) return undefined
  return { key, groupId: await joinOpenGroup(tx, key, now) }
}

export async function openNewGroup(tx: Queryable, policy: GroupingPolicy, alertId: number, key: string, now: Date): Promise<void> {
  await openGroup(tx, alertId, key, now, new Date(now.getTime() + policy.windowMs))
}
