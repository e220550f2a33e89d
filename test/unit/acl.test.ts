import { describe, expect, it } from 'vitest'
import { decidePublish, decideSubscribe, type Identity } from '../../broker/acl.ts'

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

  it('lets services publish no device data', async () => {
    expect(await decidePublish(service, 'hb/v1/devices/mh-1/telemetry', children)).toMatchObject({ ok: false })
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
