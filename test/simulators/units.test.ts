import { describe, expect, it } from 'vitest'
import { deviceTelemetrySchema, gatewayTelemetrySchema, topics, type DeviceKind, type TelemetryEntry } from '../../core/contract.ts'
import { DeviceUnit } from '../../simulators/device.ts'
import { Gateway, STRANGER_ID } from '../../simulators/gateway.ts'
import { createModel } from '../../simulators/models/index.ts'
import { Rng } from '../../simulators/rng.ts'
import { MIDNIGHT, MINUTE, expectInCatalogue, fitsCatalogue } from './catalogue.ts'

function gateway(batchEvery = 1) {
  const mh = createModel('manhole', 'mh-2')
  const ft = createModel('fire_tank', 'ft-2')
  const gw = new Gateway('gw-1', createModel('gateway', 'gw-1'), [
    { id: 'mh-2', model: mh },
    { id: 'ft-2', model: ft },
  ], new Rng(1), batchEvery)
  return { gw, mh, ft }
}

function parse(payload: string): unknown {
  return JSON.parse(payload) as unknown
}

/** A device telemetry payload that must carry exactly one entry. */
function oneEntry(payload: string): TelemetryEntry {
  const parsed = deviceTelemetrySchema.parse(parse(payload))
  if (Array.isArray(parsed)) throw new Error('one entry expected')
  return parsed
}

describe('gateway', () => {
  it("publishes its children's readings as one batch of the contract's shape", () => {
    const { gw } = gateway(3)
    expect(gw.tick(MIDNIGHT).map((m) => m.topic)).toEqual([topics.deviceTelemetry('gw-1')])
    expect(gw.tick(MIDNIGHT + MINUTE).map((m) => m.topic)).toEqual([topics.deviceTelemetry('gw-1')])
    const out = gw.tick(MIDNIGHT + 2 * MINUTE)
    expect(out.map((m) => m.topic)).toEqual([topics.deviceTelemetry('gw-1'), topics.gatewayTelemetry('gw-1')])

    const own = oneEntry(out[0]?.payload ?? '')
    expect(own.seq).toBe(2)
    expectInCatalogue('gateway', own.values)
    expect(own.values.children_online).toBe(2)

    const batch = gatewayTelemetrySchema.parse(parse(out[1]?.payload ?? ''))
    expect(out[1]?.readings).toBe(6)
    expect(Object.keys(batch).sort()).toEqual(['ft-2', 'mh-2'])
    const kinds: Record<string, DeviceKind> = { 'mh-2': 'manhole', 'ft-2': 'fire_tank' }
    for (const [child, entries] of Object.entries(batch)) {
      expect(entries.map((e) => e.seq)).toEqual([0, 1, 2])
      expect(entries.map((e) => e.ts)).toEqual([MIDNIGHT, MIDNIGHT + MINUTE, MIDNIGHT + 2 * MINUTE])
      for (const e of entries) expectInCatalogue(kinds[child] ?? 'gateway', e.values)
    }
    // The buffer was emptied: the next batch starts afresh.
    expect(gw.takeBatch()).toBeUndefined()
  })

  it('leaves silent children out, and goes quiet altogether when silent itself', () => {
    const { gw, ft } = gateway()
    ft.inject('silent')
    const out = gw.tick(MIDNIGHT)
    const own = parse(out[0]?.payload ?? '')
    expect(own).toMatchObject({ values: { children_online: 1 } })
    expect(Object.keys(gatewayTelemetrySchema.parse(parse(out[1]?.payload ?? '')))).toEqual(['mh-2'])
    gw.model.inject('silent')
    expect(gw.tick(MIDNIGHT + MINUTE)).toEqual([])
  })

  it("spoils only a bad child's entries, never its siblings'", () => {
    const { gw, mh } = gateway()
    mh.inject('bad_payload')
    for (let i = 0; i < 10; i++) {
      const out = gw.tick(MIDNIGHT + i * MINUTE)
      const batch = gatewayTelemetrySchema.parse(parse(out[1]?.payload ?? ''))
      expect(batch['mh-2']?.every((e) => !fitsCatalogue('manhole', e.values))).toBe(true)
      expect(batch['ft-2']?.every((e) => fitsCatalogue('fire_tank', e.values))).toBe(true)
    }
  })

  it('as a bad gateway, garbles its batch or reports for a device it does not own', () => {
    const { gw } = gateway()
    gw.model.inject('bad_payload')
    const seen = new Set<string>()
    for (let i = 0; i < 20; i++) {
      const out = gw.tick(MIDNIGHT + i * MINUTE)
      expect(fitsCatalogue('gateway', oneEntry(out[0]?.payload ?? '').values)).toBe(false)
      const payload = out[1]?.payload ?? ''
      try {
        const batch = gatewayTelemetrySchema.parse(parse(payload))
        expect(Object.keys(batch)).toContain(STRANGER_ID)
        seen.add('stranger')
      } catch (err) {
        expect(err).toBeInstanceOf(SyntaxError)
        seen.add('malformed')
      }
    }
    expect([...seen].sort()).toEqual(['malformed', 'stranger'])
  })
})

describe('device unit', () => {
  it('publishes one valid entry per tick on its own topic, numbered', () => {
    const unit = new DeviceUnit('el-1', createModel('elevator', 'el-1'), new Rng(1))
    for (let i = 0; i < 3; i++) {
      const [msg, ...rest] = unit.tick(MIDNIGHT + i * MINUTE)
      expect(rest).toEqual([])
      expect(msg?.topic).toBe('hb/v1/devices/el-1/telemetry')
      expect(msg?.readings).toBe(1)
      const entry = oneEntry(msg?.payload ?? '')
      expect(entry).toMatchObject({ ts: MIDNIGHT + i * MINUTE, seq: i })
      expectInCatalogue('elevator', entry.values)
    }
  })

  it('sends nothing when silent and each kind of bad payload when faulty', () => {
    const model = createModel('manhole', 'mh-1')
    const unit = new DeviceUnit('mh-1', model, new Rng(1))
    model.inject('silent')
    expect(unit.tick(MIDNIGHT)).toEqual([])
    model.clear('silent')
    model.inject('bad_payload')
    const seen = new Set<string>()
    for (let i = 0; i < 30; i++) {
      const payload = unit.tick(MIDNIGHT + i * MINUTE)[0]?.payload ?? ''
      let entry: TelemetryEntry
      try {
        entry = oneEntry(payload)
      } catch (err) {
        expect(err).toBeInstanceOf(SyntaxError) // not valid JSON; anything else is a failure
        seen.add('malformed_json')
        continue
      }
      expect(fitsCatalogue('manhole', entry.values)).toBe(false)
      seen.add('bogus_metric' in entry.values ? 'unknown_metric' : 'out_of_range')
    }
    expect([...seen].sort()).toEqual(['malformed_json', 'out_of_range', 'unknown_metric'])
  })
})
