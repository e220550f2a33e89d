// "Simulate a fault" (issue 21): an admin makes a demo device report an entrapment, a displaced
// cover or a low tank, from the API or the CLI; the readings go through the ingest and the rules
// engine raises the alert from them (no alert is inserted). Refused for other devices, other
// roles and the wrong kind of device, each with a message saying why.
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { provisionDevices } from '../../core/provision.ts'
import { ruleRow, seedRules } from '../../core/repos/rules.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { DEFAULT_RULES } from '../../rules/catalogue.ts'
import type { RulesEngine } from '../../rules/engine.ts'
import { startReceivers, type ReceiverStack } from '../helpers/receivers.ts'
import { startRulesEngine } from '../helpers/rules.ts'
import { eventually, hasPostgres } from '../helpers/services.ts'
import { COMMUNITY } from '../helpers/stack.ts'

const pgUp = await hasPostgres()
const BIN = path.resolve(import.meta.dirname, '../../bin/housing-brain.js')
const exec = promisify(execFile)

describe.skipIf(!pgUp)('simulate a fault on a demo device', () => {
  let receivers: ReceiverStack
  let engine: RulesEngine | undefined
  let operator: string

  beforeAll(async () => {
    receivers = await startReceivers()
    const db = receivers.stack.db
    await seedRules(db, DEFAULT_RULES.map(ruleRow))
    // Ids of the demo district (core/provision.ts demoLayout), in the test's community.
    await provisionDevices(db, [
      { id: 'el-gumei-001', kind: 'elevator', communityId: COMMUNITY },
      { id: 'mh-gumei-001', kind: 'manhole', communityId: COMMUNITY },
      { id: 'ft-gumei-001', kind: 'fire_tank', communityId: COMMUNITY },
      { id: 'el-gumei-002', kind: 'elevator', communityId: COMMUNITY },
    ])
    const service = (await issueToken(db, await insertUser(db, { name: 'fault-rules', role: 'service' }))).token
    operator = (await issueToken(db, await insertUser(db, { name: 'fault-operator', role: 'operator' }))).token
    engine = await startRulesEngine(db, receivers.base, service)
  })

  afterAll(async () => {
    await engine?.stop()
    await receivers.stop()
  })

  const simulate = (deviceId: string, fault: string, token = receivers.token) =>
    fetch(`${receivers.base}/api/v1/devices/${deviceId}/simulate-fault`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ fault }) })
  const alertOf = (ruleId: string, deviceId: string) =>
    eventually(async () => (await receivers.stack.db.query<{ id: number; source: string }>("SELECT id, source FROM alerts WHERE rule_id = $1 AND device_id = $2 AND state <> 'resolved'", [ruleId, deviceId]))[0], 15_000, `${ruleId} on ${deviceId}`)

  it.each([
    ['el-gumei-001', 'entrapment', 'elevator-entrapment', 1],
    ['mh-gumei-001', 'cover_displaced', 'manhole-cover-displaced', 2],
    ['ft-gumei-001', 'low_level', 'fire-tank-below-reserve', 4],
  ])('%s: %s is ingested and the rules engine raises %s', async (deviceId, fault, ruleId, entries) => {
    const offered = await fetch(`${receivers.base}/api/v1/devices/${deviceId}/simulate-fault`, { headers: { authorization: `Bearer ${receivers.token}` } })
    expect(await offered.json()).toEqual({ faults: [fault], refusal: null })
    const res = await simulate(deviceId, fault)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { stored: number }
    expect(body.stored).toBeGreaterThanOrEqual(entries)
    const readings = await receivers.stack.db.query<{ n: number }>('SELECT count(*)::int AS n FROM readings WHERE device_id = $1', [deviceId])
    expect(readings[0]?.n).toBe(body.stored)
    // Raised by the engine from the committed readings, as a sensor's fault is.
    expect(await alertOf(ruleId, deviceId)).toMatchObject({ source: 'rules' })
    const [audit] = await receivers.stack.db.query<{ action: string; target: Record<string, string> }>("SELECT action, target FROM audit_log WHERE action = 'devices.simulate_fault' AND target->>'id' = $1", [deviceId])
    expect(audit).toMatchObject({ target: { id: deviceId, fault } })
  })

  it('refuses a device outside the demo, the wrong kind and other roles, saying why', async () => {
    const outside = await simulate('el-1', 'entrapment')
    expect(outside.status).toBe(403)
    expect(await outside.json()).toMatchObject({ code: 'simulation_not_allowed', message: expect.stringContaining('SIMULATE_FAULTS=any') as string })
    const offered = await fetch(`${receivers.base}/api/v1/devices/el-1/simulate-fault`, { headers: { authorization: `Bearer ${receivers.token}` } })
    expect(await offered.json()).toMatchObject({ faults: [], refusal: expect.stringContaining('not a demo device') as string })
    const wrongKind = await simulate('el-gumei-002', 'low_level')
    expect(wrongKind.status).toBe(400)
    expect(await wrongKind.json()).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('fire tank') as string })
    expect((await simulate('el-gumei-002', 'entrapment', operator)).status).toBe(403)
    expect((await receivers.stack.db.query('SELECT 1 FROM readings WHERE device_id = $1', ['el-gumei-002'])).length).toBe(0)
  })

  it('housing-brain fault does the same from the shell, and explains a refusal', async () => {
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: receivers.stack.dbUrl ?? '', LOG_LEVEL: 'warn' }
    const run = async (...args: string[]) =>
      exec(process.execPath, [BIN, 'fault', ...args], { env, timeout: 30_000 }).then(
        (r) => ({ code: 0, ...r }),
        (err: unknown) => err as { code: number; stdout: string; stderr: string },
      )
    const ok = await run('--device', 'el-gumei-002', '--fault', 'entrapment')
    expect(ok.stdout).toMatch(/el-gumei-002: entrapment reported \(\d+ reading\(s\) committed\)/)
    expect(ok.code).toBe(0)
    expect(await alertOf('elevator-entrapment', 'el-gumei-002')).toMatchObject({ source: 'rules' })
    const [audit] = await receivers.stack.db.query<{ actor_name: string }>("SELECT actor_name FROM audit_log WHERE action = 'devices.simulate_fault' AND status = 200 AND target->>'id' = 'el-gumei-002'")
    expect(audit?.actor_name).toBe('housing-brain fault')
    const refused = await run('--device', 'mh-1', '--fault', 'cover_displaced')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/"mh-1" is not a demo device/)
    expect((await run('--device', 'mh-1')).stderr).toMatch(/usage:/)
  })
})
