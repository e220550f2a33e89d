// A rules engine whose reports cannot reach the API stops reading the feed once its queue of
// reports is full (rules/reporter.ts). While it waits, readings keep committing that it has not
// read: it must not take the server's clock for the time of the devices behind them either, or a
// device that reports every half second looks silent and raises a false "no data" alert the
// moment the API is back. Faults committed meanwhile are raised once when it is.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { topics } from '../../core/contract.ts'
import { silentLogger } from '../../core/log.ts'
import { provisionDevices } from '../../core/provision.ts'
import { ruleRow, upsertRule } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { ruleDefinitionSchema } from '../../rules/definitions.ts'
import { RulesEngine } from '../../rules/engine.ts'
import { ApiReporter } from '../../rules/reporter.ts'
import { startReceivers, type ReceiverStack } from '../helpers/receivers.ts'
import { eventually, hasPostgres } from '../helpers/services.ts'
import { COMMUNITY } from '../helpers/stack.ts'
import { tcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'

const pgUp = await hasPostgres()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!pgUp)('a rules engine held back by undeliverable reports', () => {
  let receivers: ReceiverStack
  let proxy: TcpProxy
  let engine: RulesEngine | undefined

  beforeAll(async () => {
    receivers = await startReceivers()
    const db = receivers.stack.db
    const rule = (def: Record<string, unknown>) => upsertRule(db, ruleRow(ruleDefinitionSchema.parse({ description: 'test rule', severity: 'major', autoResolve: false, ...def })))
    await rule({ id: 'bp-quiet', name: 'Quiet', type: 'nodata', scope: { deviceId: 'el-bp' }, params: { after: '2s' } })
    await rule({ id: 'bp-cover', name: 'Cover', type: 'threshold', scope: { kind: 'manhole', communityId: COMMUNITY }, params: { metric: 'cover_tilt_deg', op: '>', value: 30 } })
    const added = await provisionDevices(db, [
      { id: 'el-bp', kind: 'elevator', communityId: COMMUNITY },
      ...['mh-bp-1', 'mh-bp-2', 'mh-bp-3'].map((id) => ({ id, kind: 'manhole' as const, communityId: COMMUNITY })),
    ])
    for (const c of added) receivers.stack.creds.set(c.id, c)
    const token = (await issueToken(db, await insertUser(db, { name: 'bp-rules', role: 'service' }))).token
    proxy = tcpProxy({ host: '127.0.0.1', port: Number(new URL(receivers.base).port) })
    const port = await proxy.start()
    // A queue of two reports: full after two undelivered raises.
    const reporter = new ApiReporter({ apiUrl: `http://127.0.0.1:${port}`, token, maxQueued: 2 }, silentLogger)
    engine = new RulesEngine(db, reporter, { tickMs: 200, repeatEveryMs: 60_000, latenessMs: 120_000 }, silentLogger)
    await engine.start()
    await engine.whenRunning()
  })

  afterAll(async () => {
    await engine?.stop()
    await proxy.stop()
    await receivers.stop()
  })

  const send = async (deviceId: string, values: Record<string, number>) => {
    const c = await receivers.stack.connect(deviceId, { clientId: `${deviceId}/${randomBytes(3).toString('hex')}` })
    await c.publishAsync(topics.deviceTelemetry(deviceId), JSON.stringify({ ts: Date.now(), values }), { qos: 1 })
    await c.endAsync()
  }
  const alertsOf = (ruleId: string, deviceId: string) => receivers.stack.db.query<{ id: number }>('SELECT id FROM alerts WHERE rule_id = $1 AND device_id = $2', [ruleId, deviceId])

  it('neither reads nor ticks while its queue is full: a device heard every half second is not raised as silent, and the faults meanwhile are raised once', async () => {
    const state = { on: true }
    const heartbeat = (async () => {
      while (state.on) {
        await send('el-bp', { running: 1 })
        await sleep(500)
      }
    })()
    try {
      await sleep(1500)
      proxy.cut()
      // Two raises the API cannot hear of: the queue is full.
      await send('mh-bp-1', { cover_tilt_deg: 45 })
      await send('mh-bp-2', { cover_tilt_deg: 45 })
      await sleep(1000)
      // The process says why it is not ready (its /readyz).
      await eventually(() => engine?.problem(), 5000, 'the engine to say it waits')
      expect(engine?.problem()).toMatch(/not delivered/)
      // Committed while the engine waits, and read once it goes on.
      await send('mh-bp-3', { cover_tilt_deg: 45 })
      // Well past the no-data bound of 2 s, by the server's clock.
      await sleep(5000)
      proxy.restore()
      for (const id of ['mh-bp-1', 'mh-bp-2', 'mh-bp-3']) await eventually(async () => ((await alertsOf('bp-cover', id)).length > 0 ? true : undefined), 15_000, `the cover alert of ${id}`)
      await sleep(2000)
      expect(engine?.problem()).toBeUndefined()
    } finally {
      state.on = false
      await heartbeat
    }
    expect(await alertsOf('bp-quiet', 'el-bp')).toHaveLength(0)
    for (const id of ['mh-bp-1', 'mh-bp-2', 'mh-bp-3']) expect(await alertsOf('bp-cover', id)).toHaveLength(1)
  })
})
