// Many open alerts at once, for the bulk and board tests: inserted through the repository in one
// transaction (seconds for thousands), not raised one report at a time (a transaction each).
import type { Db } from '../../core/db/client.ts'
import { insertAlert } from '../../core/repos/alerts.ts'
import type { Severity } from '../../shared/domain.ts'

export async function manyOpenAlerts(db: Db, n: number, where: { communityId: string; companyId: string; severity?: Severity; prefix?: string }): Promise<number[]> {
  const now = Date.now()
  return db.transaction(async (tx) => {
    const ids: number[] = []
    for (let i = 0; i < n; i++) {
      const at = new Date(now - (n - i) * 1000)
      const a = await insertAlert(tx, {
        ruleId: `${where.prefix ?? 'many'}-${i}`, deviceId: null, communityId: where.communityId, companyId: where.companyId, source: 'node-red',
        severity: where.severity ?? 'warning', title: `Cover displaced ${i}`, reason: null, autoResolve: false, silenced: false, flapping: false,
        value: null, predictedAt: null, raisedAt: at, notifiedAt: at, rearmMs: 0, ackDeadline: new Date(now + 3_600_000), resolveDeadline: new Date(now + 86_400_000), reraiseOf: null,
      })
      ids.push(a.id)
    }
    return ids
  })
}
