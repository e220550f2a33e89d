import { describe, expect, it } from 'vitest'
import { decideClientId, decideForward, decidePublish, decideSubscribe, serviceClientId, type Identity } from '../../intake/acl.ts'
import { ID_PATTERN } from '../../core/contract.ts'

const manhole: Identity = { type: 'device', deviceId: 'mh-1', kind: 'manhole' }
const gateway: Identity = { type: 'device', deviceId: 'gw-1', kind: 'gateway' }
const service: Identity = { type: 'service', name: 'rules' }
const children = async (gw: string, dev: string) => gw === 'gw-1' && dev === 'mh-2'

describe('publish policy', () => {
  it('lets a device publish its own telemetry and status only', async () => {
    expect(await decidePublish(manhole, 'hb/v1/devices/mh-1/telemetry', children)).toMatchObject({ ok: true, topic: 'telemetry' })
    expect(await decidePublish(manhole, 'hb/v1/devices/mh-1/status', children)).toMatchObject({ ok: true, topic: 'status' })
    expect(await decidePublish(manhole, 'hb/v1/devices/mh-2/telemetry', children)).toMatchObject({ ok: false })
    expect(await decidePublish(manhole, 'hb/v1/gateways/mh-1/telemetry', children)).toMatchObject({ ok: false })
    expect(await decidePublish(manhole, 'random/topic', children)).toMatchObject({ ok: false })
  })

  it('lets a gateway publish for its registered children, not for others', async () => {
    expect(await decidePublish(gateway, 'hb/v1/gateways/gw-1/telemetry', children)).toMatchObject({ ok: true })
    expect(await decidePublish(gateway, 'hb/v1/devices/mh-2/status', children)).toMatchObject({ ok: true, deviceId: 'mh-2' })
    expect(await decidePublish(gateway, 'hb/v1/devices/mh-9/status', children)).toMatchObject({ ok: false })
    expect(await decidePublish(gateway, 'hb/v1/gateways/gw-2/telemetry', children)).toMatchObject({ ok: false })
  })

  it('lets services publish nothing (what commits reaches the rules engine through the feed)', async () => {
    for (const topic of ['hb/v1/devices/mh-1/telemetry', 'hb/v1/readings/0', 'hb/v1/readings/63', 'hb/v1/anything']) expect(await decidePublish(service, topic, children)).toMatchObject({ ok: false })
  })

  it('lets no device publish or read topics outside its own', async () => {
    for (const who of [manhole, gateway]) {
      expect(await decidePublish(who, 'hb/v1/readings/0', children)).toMatchObject({ ok: false })
      for (const filter of ['hb/v1/readings/#', 'hb/v1/readings/+', 'hb/v1/readings/5']) expect(decideSubscribe(who, filter)).toMatchObject({ ok: false })
      expect(decideForward(who, 'hb/v1/readings/5', false)).toBe(false)
    }
    expect(decideSubscribe(service, 'hb/v1/readings/5')).toEqual({ ok: true })
    expect(decideForward(service, 'hb/v1/readings/5', false)).toBe(true)
  })
})

describe('subscribe policy', () => {
  it('confines a device to filters under its own prefix', () => {
    expect(decideSubscribe(manhole, 'hb/v1/devices/mh-1/commands')).toEqual({ ok: true })
    expect(decideSubscribe(manhole, 'hb/v1/devices/mh-1/#')).toEqual({ ok: true })
    for (const filter of ['#', 'hb/v1/#', 'hb/v1/devices/+/telemetry', 'hb/v1/devices/mh-2/telemetry', 'hb/v1/devices/mh-1']) {
      expect(decideSubscribe(manhole, filter)).toMatchObject({ ok: false })
    }
  })

  it('lets services read the whole tree, also through shared subscriptions', () => {
    expect(decideSubscribe(service, 'hb/v1/devices/+/telemetry')).toEqual({ ok: true })
    expect(decideSubscribe(service, '$share/ingest/hb/v1/gateways/+/telemetry')).toEqual({ ok: true })
    expect(decideSubscribe(service, '#')).toMatchObject({ ok: false })
  })
})

describe('client id policy', () => {
  it("ties a device's client id to its id and a service's to its user", () => {
    expect(decideClientId(manhole, 'mh-1')).toEqual({ ok: true })
    expect(decideClientId(manhole, 'mh-1/boot-2')).toEqual({ ok: true })
    for (const other of ['mh-2', 'mh-10', 'mh-1-x', 'mh-1x/y', '', 'housing-brain-rules', 'svc@rules', 'svc@mh-1']) {
      expect(decideClientId(manhole, other)).toMatchObject({ ok: false })
    }
    expect(decideClientId(service, serviceClientId('rules'))).toEqual({ ok: true })
    expect(decideClientId(service, serviceClientId('rules', 'engine'))).toEqual({ ok: true })
    for (const other of ['rules', 'svc@rules-2', 'svc@rulesx/y', 'mh-1']) expect(decideClientId(service, other)).toMatchObject({ ok: false })
  })

  it('keeps service ids out of every possible device id', () => {
    // A device could be registered under any id ID_PATTERN allows, but never one with an "@".
    expect(ID_PATTERN.test(serviceClientId('rules').split('/')[0] ?? '')).toBe(false)
  })
})

describe('forward policy', () => {
  it('delivers to a device only its own topics, to a service only the contract tree', () => {
    expect(decideForward(manhole, 'hb/v1/devices/mh-1/config', false)).toBe(true)
    expect(decideForward(manhole, 'hb/v1/devices/mh-2/telemetry', false)).toBe(false)
    expect(decideForward(gateway, 'hb/v1/gateways/gw-1/config', false)).toBe(true)
    expect(decideForward(service, 'hb/v1/devices/mh-2/telemetry', false)).toBe(true)
    expect(decideForward(service, '$SYS/broker/clients', false)).toBe(false)
  })

  it('never delivers retained telemetry; retained status is fine', () => {
    expect(decideForward(service, 'hb/v1/devices/mh-2/telemetry', true)).toBe(false)
    expect(decideForward(service, 'hb/v1/gateways/gw-1/telemetry', true)).toBe(false)
    expect(decideForward(manhole, 'hb/v1/devices/mh-1/telemetry', true)).toBe(false)
    expect(decideForward(service, 'hb/v1/devices/mh-2/status', true)).toBe(true)
  })
})
