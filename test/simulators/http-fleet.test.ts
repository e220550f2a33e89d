// The simulated fleet pushing over HTTP, through real requests to the receivers: the device API
// with each device's own secret, OneNET's signed push and CTWing's subscription push each carry
// the devices' readings into the store, and the platforms' online messages mark them online.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import { provisionDevices } from '../../core/provision.ts'
import { Fleet, type HttpVia } from '../../simulators/index.ts'
import { startReceivers, type ReceiverStack } from '../helpers/receivers.ts'
import { eventually, hasPostgres } from '../helpers/services.ts'
import { COMMUNITY } from '../helpers/stack.ts'

const pgUp = await hasPostgres()
const ONENET = 'sim-onenet-token'
const CTWING = 'sim-ctwing-token'

describe.skipIf(!pgUp)('simulated fleet over HTTP', () => {
  let receivers: ReceiverStack

  beforeAll(async () => {
    receivers = await startReceivers({ onenetPushToken: ONENET, ctwingPushToken: CTWING })
  })
  afterAll(() => receivers.stop())

  for (const via of ['http', 'onenet', 'ctwing'] as const satisfies readonly HttpVia[]) {
    it(`stores the readings of tanks and elevators pushing via ${via}`, async () => {
      const db = receivers.stack.db
      const devices = await provisionDevices(db, [
        // The simulated platforms name devices by id (no IMEI): the devices opt in to that.
        { id: `sim-${via}-ft`, kind: 'fire_tank', communityId: COMMUNITY, platformIdFallback: via !== 'http' },
        { id: `sim-${via}-el`, kind: 'elevator', communityId: COMMUNITY, platformIdFallback: via !== 'http' },
      ])
      const fleet = new Fleet({ devices, brokerUrl: 'mqtt://unused', rate: 5, scenario: 'normal', log: silentLogger, http: { via, baseUrl: receivers.base, onenetToken: ONENET, ctwingToken: CTWING } })
      await fleet.start()
      try {
        await eventually(async () => {
          const rows = await db.query<{ device_id: string }>('SELECT DISTINCT device_id FROM readings WHERE device_id = ANY($1::text[])', [devices.map((d) => d.id)])
          return rows.length === 2 ? true : undefined
        }, 20_000, `readings pushed via ${via}`)
      } finally {
        await fleet.stop()
      }
      expect(fleet.stats().acked).toBeGreaterThan(0)
      expect(await db.query('SELECT reason_code FROM dead_letters WHERE device_id = ANY($1::text[])', [devices.map((d) => d.id)])).toEqual([])
      if (via !== 'http') {
        const status = await db.query<{ status: string }>('SELECT status FROM device_status WHERE device_id = $1', [`sim-${via}-ft`])
        expect(status).toEqual([{ status: 'online' }])
      }
    })
  }
})
