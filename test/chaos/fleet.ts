// A fleet of well-behaved elevators for the chaos suite, registered in a running `up` through its
// API, each publishing car loads with sequence numbers (test/helpers/seq-publisher.ts), and the
// check every chaos test ends with: every PUBACKed reading stored exactly once.
import { expect } from 'vitest'
import { SeqPublisher, checkStored } from '../helpers/seq-publisher.ts'
import { registerElevators, storedTimestamps, type UpProcess } from '../helpers/up-process.ts'

export const FLEET_METRIC = 'car_load_kg'

export interface Fleet {
  ids: string[]
  secrets: Map<string, string>
  publishers: SeqPublisher[]
  /** `ts` of sequence number 0 for every device. */
  baseTs: number
}

/**
 * Registers `size` elevators named `{prefix}-{n}` and starts one publisher each. Timestamps start
 * ten minutes in the past, one millisecond per sequence number, so they are neither too old nor
 * ahead of the server clock.
 */
export async function startFleet(up: UpProcess, prefix: string, size: number, pace: { intervalMs: number; window: number; padding?: number }): Promise<Fleet> {
  const ids = Array.from({ length: size }, (_, i) => `${prefix}-${i + 1}`)
  const secrets = await registerElevators(up, ids)
  const baseTs = Date.now() - 10 * 60_000
  const publishers: SeqPublisher[] = []
  for (const id of ids) {
    const client = await up.connect(id, secrets.get(id) ?? '')
    publishers.push(new SeqPublisher(client, { deviceId: id, metric: FLEET_METRIC, baseTs, ...pace }))
  }
  for (const p of publishers) p.start()
  return { ids, secrets, publishers, baseTs }
}

export function fleetCounts(fleet: Fleet): { sent: number; acked: number } {
  let sent = 0
  let acked = 0
  for (const p of fleet.publishers) {
    sent += p.sent
    acked += p.acked.size
  }
  return { sent, acked }
}

/** Reads every device's readings through `up`'s API and checks them against what was PUBACKed. */
export async function expectStoredExactlyOnce(up: UpProcess, fleet: Fleet): Promise<{ stored: number; ackedStored: number }> {
  let stored = 0
  let ackedStored = 0
  const problems: string[] = []
  for (const [i, id] of fleet.ids.entries()) {
    const pub = fleet.publishers[i]
    if (!pub) continue
    const ts = await storedTimestamps(up, id, FLEET_METRIC, fleet.baseTs, fleet.baseTs + pub.sent + 1)
    const { missing, duplicated, foreign } = checkStored(pub, fleet.baseTs, ts)
    stored += ts.length
    ackedStored += pub.acked.size - missing.length
    if (missing.length > 0) problems.push(`${id}: ${missing.length} PUBACKed readings missing (seq ${missing.slice(0, 10).join(', ')})`)
    if (duplicated.length > 0) problems.push(`${id}: stored more than once: seq ${duplicated.slice(0, 10).join(', ')}`)
    if (foreign.length > 0) problems.push(`${id}: rows no publication explains: seq ${foreign.slice(0, 10).join(', ')}`)
  }
  expect(problems).toEqual([])
  return { stored, ackedStored }
}
