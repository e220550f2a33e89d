// MQTT fuzz suite (issue 7, "Acceptance"): thousands of generated and mutated payloads through the
// real broker and ingest on a PostgreSQL database of the test's own, published by several devices
// and gateways on their own topics, while a well-behaved device keeps publishing QoS 1 with
// sequence numbers. It passes when
// - the server never crashes or stalls: every publication is answered, and the good device's
//   PUBACK p99 stays under 1 s (the one latency bound the issue sets);
// - every message is stored or dead-lettered with a reason (test/fuzz/ledger.ts), and none makes
//   the broker drop the connection (only a foreign topic may be refused at the edge);
// - the dead letters stored match the ingest's counter (hb_ingest_rejected_total);
// - the good device's PUBACKed readings are all stored, once.
// Seeded: FUZZ_SEED picks the seed (printed either way), FUZZ_RUNS the number of generated cases.
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DeviceKind } from '../../core/contract.ts'
import { provisionDevices, type DeviceSpec } from '../../core/provision.ts'
import { loginDevice } from '../helpers/mqtt-login.ts'
import { percentile, SeqPublisher, checkStored } from '../helpers/seq-publisher.ts'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'
import { COMMUNITY, startStack, type TestStack } from '../helpers/stack.ts'
import { deadLettersSince, emptyBatch, storedUnits, unexplained, unitsOf } from './ledger.ts'
import { extremeCases, generatedCases, type FuzzCase, type Lane } from './payloads.ts'

const pgUp = await hasPostgres()
const SEED = Number(process.env.FUZZ_SEED ?? 20261128)
const RUNS = Number(process.env.FUZZ_RUNS ?? 4000)
/** A publication not answered within this long means the server stalled (not a latency bound). */
const ANSWER_WITHIN_MS = 30_000

const DEVICE_LANES: [string, DeviceKind][] = [['fz-mh-1', 'manhole'], ['fz-ft-1', 'fire_tank'], ['fz-el-1', 'elevator'], ['fz-mh-2', 'manhole']]
const GATEWAY_LANES = ['fz-gw-1', 'fz-gw-2']
const TOPIC_LANE = 'fz-tp-1'
const GOOD = 'fz-good-1'
const childrenOf = (gw: string) => Array.from({ length: 8 }, (_, i) => `${gw}-c${i + 1}`)

function fleetSpecs(): DeviceSpec[] {
  const specs: DeviceSpec[] = [...DEVICE_LANES.map(([id, kind]) => ({ id, kind, communityId: COMMUNITY }))]
  for (const gw of GATEWAY_LANES) {
    specs.push({ id: gw, kind: 'gateway', communityId: COMMUNITY })
    for (const c of childrenOf(gw)) specs.push({ id: c, kind: 'manhole', communityId: COMMUNITY, gatewayId: gw })
  }
  specs.push({ id: TOPIC_LANE, kind: 'manhole', communityId: COMMUNITY }, { id: GOOD, kind: 'elevator', communityId: COMMUNITY })
  return specs
}

interface Tally {
  sent: number
  acked: number
  refusedAtEdge: number
  storedUnits: number
  deadLetters: number
  /** Telemetry messages by what became of them. */
  outcomes: { stored: number; partly: number; deadLettered: number; empty: number }
  problems: string[]
}

function describeCase(lane: string, index: number, c: FuzzCase, payload: Buffer): string {
  const text = payload.toString('utf8')
  const head = JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text)
  return `${lane} case ${index} (${c.label}, ${payload.length} bytes: ${head})`
}

/** Publishes with QoS 1 and tells how it ended: PUBACK, the connection closed, or no answer at all. */
function publish(client: MqttClient, topic: string, payload: Buffer): Promise<'acked' | 'closed' | 'unanswered'> {
  return new Promise((resolve) => {
    const done = (outcome: 'acked' | 'closed' | 'unanswered') => {
      clearTimeout(timer)
      client.off('close', onClose)
      resolve(outcome)
    }
    const onClose = () => done('closed')
    const timer = setTimeout(() => done('unanswered'), ANSWER_WITHIN_MS)
    client.once('close', onClose)
    client.publish(topic, payload, { qos: 1 }, (err) => done(err ? 'closed' : 'acked'))
  })
}

describe.skipIf(!pgUp)('MQTT fuzz: generated and mutated payloads through the real broker and ingest', () => {
  let stack: TestStack
  let drop: () => Promise<void>
  const secrets = new Map<string, string>()
  const kinds = new Map<string, DeviceKind>()
  const clients: MqttClient[] = []

  beforeAll(async () => {
    const tdb = await createTestDatabase()
    drop = tdb.drop
    stack = await startStack(tdb.url, { INGEST_BATCH_MAX_WAIT: '2ms' })
    const specs = fleetSpecs()
    for (const c of await provisionDevices(stack.db, specs)) secrets.set(c.id, c.secret)
    for (const s of specs) kinds.set(s.id, s.kind)
  })

  afterAll(async () => {
    for (const c of clients) c.end(true)
    await stack.stop()
    await drop()
  })

  async function connect(deviceId: string): Promise<MqttClient> {
    const client = await loginDevice(stack.url, deviceId, secrets.get(deviceId) ?? '')
    // A refused publication ends the connection; the lane notices the close and reconnects.
    client.on('error', () => undefined)
    clients.push(client)
    return client
  }

  it('never crashes or stalls; every message is stored or dead-lettered with a reason; the counts match', { timeout: 600_000 }, async () => {
    console.log(`MQTT fuzz: seed ${SEED}, ${RUNS} generated cases (FUZZ_SEED / FUZZ_RUNS to change)`)
    const generated = generatedCases(SEED, RUNS)
    const extremes = extremeCases()
    // The extremes are spread through the stream, so they land while other traffic flows.
    const all: FuzzCase[] = []
    const every = Math.max(1, Math.floor(generated.length / (extremes.length + 1)))
    for (const [i, c] of generated.entries()) {
      all.push(c)
      if ((i + 1) % every === 0 && extremes.length > 0) all.push(extremes.shift() as FuzzCase)
    }
    all.push(...extremes)

    // Deal the cases to the lanes that may send them, in order.
    const lanes: { lane: Lane; cases: FuzzCase[] }[] = [
      ...DEVICE_LANES.map(([id, kind], i) => ({ lane: { deviceId: id, kind, children: [], stranger: DEVICE_LANES[(i + 1) % DEVICE_LANES.length]?.[0] ?? '' }, cases: [] })),
      ...GATEWAY_LANES.map((gw, i) => ({
        lane: { deviceId: gw, kind: 'gateway' as const, children: childrenOf(gw), stranger: childrenOf(GATEWAY_LANES[(i + 1) % GATEWAY_LANES.length] ?? '')[0] ?? '' },
        cases: [],
      })),
      { lane: { deviceId: TOPIC_LANE, kind: 'manhole', children: [], stranger: GOOD }, cases: [] },
    ]
    const deviceLanes = lanes.slice(0, DEVICE_LANES.length)
    const gatewayLanes = lanes.slice(DEVICE_LANES.length, DEVICE_LANES.length + GATEWAY_LANES.length)
    const topicLane = lanes.at(-1)
    let d = 0
    let g = 0
    for (const c of all) {
      if (c.target === 'topic') topicLane?.cases.push(c)
      else if (c.gateway) gatewayLanes[g++ % gatewayLanes.length]?.cases.push(c)
      else deviceLanes[d++ % deviceLanes.length]?.cases.push(c)
    }

    const tally: Tally = { sent: 0, acked: 0, refusedAtEdge: 0, storedUnits: 0, deadLetters: 0, outcomes: { stored: 0, partly: 0, deadLettered: 0, empty: 0 }, problems: [] }
    let stalled: string | undefined

    const goodBaseTs = Date.now() - 3_600_000
    const good = new SeqPublisher(await connect(GOOD), { deviceId: GOOD, metric: 'car_load_kg', baseTs: goodBaseTs, intervalMs: 20, window: 50 })
    good.start()

    // One login at a time, then every lane at once.
    const connected = new Map<string, MqttClient>()
    for (const { lane } of lanes) connected.set(lane.deviceId, await connect(lane.deviceId))

    const runLane = async ({ lane, cases }: { lane: Lane; cases: FuzzCase[] }) => {
      let client = connected.get(lane.deviceId) ?? (await connect(lane.deviceId))
      let lastDeadLetter = 0
      for (const [index, c] of cases.entries()) {
        if (stalled !== undefined) return
        const { topic, payload } = c.build(lane)
        const sentAt = Date.now()
        tally.sent++
        const outcome = await publish(client, topic, payload)
        const ackedAt = Date.now()
        const what = () => describeCase(lane.deviceId, index, c, payload)
        if (outcome === 'unanswered') {
          stalled = `${what()}: no PUBACK and no disconnect within ${ANSWER_WITHIN_MS / 1000} s`
          return
        }
        if (outcome === 'closed') {
          if (c.target === 'topic') tally.refusedAtEdge++
          else tally.problems.push(`${what()}: the broker closed the connection (no PUBACK)`)
          client.end(true)
          client = await connect(lane.deviceId)
          continue
        }
        tally.acked++
        const dead = await deadLettersSince(stack.db, lane.deviceId, lastDeadLetter)
        lastDeadLetter = dead.at(-1)?.id ?? lastDeadLetter
        tally.deadLetters += dead.length
        const bad = unexplained(dead)
        if (bad.length > 0) tally.problems.push(`${what()}: dead letters without a reason: ${JSON.stringify(bad)}`)
        if (c.target === 'status') {
          const valid = ['online', 'offline'].includes(payload.toString('utf8').trim())
          if (!valid && dead.length === 0) tally.problems.push(`${what()}: an invalid status left no dead letter`)
          continue
        }
        if (c.target === 'topic') {
          if (dead.length === 0) tally.problems.push(`${what()}: a publication on a foreign topic was acknowledged without a dead letter`)
          continue
        }
        const units = unitsOf(payload, { gateway: c.gateway, deviceId: lane.deviceId }, kinds, { sentAt, ackedAt })
        const stored = await storedUnits(stack.db, units.candidates)
        tally.storedUnits += stored
        if (stored + dead.length === 0) {
          if (emptyBatch(payload, c.gateway)) tally.outcomes.empty++
          else tally.problems.push(`${what()}: vanished — nothing stored, no dead letter`)
        } else if (stored < units.count && dead.length === 0) {
          tally.problems.push(`${what()}: ${units.count - stored} of ${units.count} readings neither stored nor dead-lettered`)
        } else if (dead.length === 0) tally.outcomes.stored++
        else if (stored > 0) tally.outcomes.partly++
        else tally.outcomes.deadLettered++
      }
    }

    await Promise.all(lanes.map(runLane))
    const goodUnacked = await good.stop(stalled === undefined ? ANSWER_WITHIN_MS : 0)

    // Totals, from the database and from the ingest's own counter.
    // A message's rejections beyond the per-message cap are summed up in one row ("N more
    // rejections in this message …"), which stands for N of them in the counter.
    const [dl] = await stack.db.query<{ n: number; rejections: number }>(
      `SELECT count(*)::int AS n,
              coalesce(sum(CASE WHEN reason ~ '^[0-9]+ more rejections in this message' THEN substring(reason FROM '^[0-9]+')::int ELSE 1 END), 0)::int AS rejections
       FROM dead_letters`,
    )
    const deadLetterRows = dl?.n ?? 0
    const deadLetterRejections = dl?.rejections ?? 0
    const counter = (await stack.metrics.rejected.get()).values.reduce((n, v) => n + v.value, 0)
    const [rows] = await stack.db.query<{ n: number }>("SELECT count(*)::int AS n FROM readings WHERE device_id LIKE 'fz-%' AND device_id <> $1", [GOOD])
    const goodRows = await stack.db.query<{ ts: Date }>('SELECT ts FROM readings WHERE device_id = $1', [GOOD])
    const goodStored = checkStored(good, goodBaseTs, goodRows.map((r) => r.ts.getTime()))
    const lat = good.latencies()
    const p50 = percentile(lat, 50)
    const p99 = percentile(lat, 99)
    console.log(
      [
        `MQTT fuzz (seed ${SEED}): ${tally.sent} messages sent, ${tally.acked} PUBACKed, ${tally.refusedAtEdge} refused at the edge (foreign topics)`,
        `  telemetry: ${tally.outcomes.stored} stored whole, ${tally.outcomes.partly} in part (the rest dead-lettered), ${tally.outcomes.deadLettered} dead-lettered, ${tally.outcomes.empty} empty batches`,
        `  readings stored ${rows?.n ?? 0} (${tally.storedUnits} units found after their PUBACK); dead letters ${deadLetterRows} rows standing for ${deadLetterRejections} rejections, hb_ingest_rejected_total ${counter}`,
        `  good device: ${good.sent} sent, ${good.acked.size} PUBACKed, ${goodRows.length} stored; PUBACK p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
        `  problems: ${tally.problems.length}${stalled ? `; STALLED at ${stalled}` : ''}`,
        ...tally.problems.slice(0, 20).map((p) => `    ${p}`),
      ].join('\n'),
    )
    expect(stalled).toBeUndefined()
    expect(tally.problems).toEqual([])
    expect(goodUnacked).toBe(0)
    expect(p99).toBeLessThan(1000)
    expect(goodStored).toEqual({ missing: [], duplicated: [], foreign: [] })
    expect(deadLetterRejections).toBe(counter)
  })
})
