// The shipped device profiles: each validates, and each decoder turns a payload laid out as its
// vendor document describes into readings of the catalogue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodePayload } from '../../core/decoders/decode.ts'
import { DEFAULT_SANDBOX_LIMITS, DecoderSandbox } from '../../core/decoders/sandbox.ts'
import { SHIPPED_PROFILES } from '../../core/profiles/catalogue.ts'
import { profileSchema, type DeviceProfile } from '../../core/profiles/schema.ts'

const RECEIVED = Date.UTC(2026, 10, 29, 8, 0, 0)
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

const profile = (id: string): DeviceProfile => {
  const p = SHIPPED_PROFILES.find((x) => x.id === id)
  if (!p) throw new Error(`no profile ${id}`)
  return profileSchema.parse(p)
}

describe('shipped device profiles', () => {
  const sandbox = new DecoderSandbox({ ...DEFAULT_SANDBOX_LIMITS, timeLimitMs: 5000 })
  beforeAll(() => sandbox.start())
  afterAll(() => sandbox.stop())

  const decode = (id: string, bytes: Buffer, extra: { fPort?: number; json?: unknown } = {}) => {
    const p = profile(id)
    if (!p.decoder) throw new Error('no decoder')
    return decodePayload({ decoder: p.decoder, variables: p.variables }, { bytes, receivedAt: RECEIVED, ...extra }, sandbox)
  }

  it('each one is a valid profile with a named source', () => {
    for (const p of SHIPPED_PROFILES) {
      const parsed = profileSchema.safeParse(p)
      expect(parsed.success, `${p.id}: ${parsed.error?.message ?? ''}`).toBe(true)
      expect(p.source?.length).toBeGreaterThan(10)
    }
  })

  it('Milesight EM320-TILT: the vendor example (battery 100 %, Z at 90°) is a cover lying flat', async () => {
    expect(await decode('milesight-em320-tilt', hex('01 75 64 03 D4 00 00 01 00 50 46'), { fPort: 85 })).toEqual({
      ok: true,
      entries: [{ values: { battery_pct: 100, cover_tilt_deg: 0 } }],
      warnings: [],
    })
  })

  it('Milesight EM320-TILT: Z at 55° is a cover tilted 35°', async () => {
    // 55.00° = 5500 → (5500 << 1) = 11000 = 0x2AF8, little-endian F8 2A.
    const r = await decode('milesight-em320-tilt', hex('01 75 5A 03 D4 00 00 00 00 F8 2A'), { fPort: 85 })
    expect(r).toMatchObject({ ok: true, entries: [{ values: { battery_pct: 90, cover_tilt_deg: 35 } }] })
  })

  it('Dragino LDDS75: 1500 mm below a sensor mounted 4 m up is 2.5 m of water', async () => {
    // 0x0D14 = 3348 mV, 0x05DC = 1500 mm, no interrupt, 0x00F5 = 24.5 °C, sensor present.
    expect(await decode('dragino-ldds75-tank', hex('0D 14 05 DC 00 00 F5 01'), { fPort: 2 })).toMatchObject({ ok: true, entries: [{ values: { water_level_m: 2.5 } }] })
  })

  it('Dragino LDDS75: a distance of 0 (no sensor) is a decoder error, with the reason', async () => {
    const r = await decode('dragino-ldds75-tank', hex('0D 14 00 00 00 00 F5 01'), { fPort: 2 })
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining('no ultrasonic sensor') as string })
  })

  it('elevator DTU JSON: maps words and units, takes the payload time', async () => {
    const json = { timestamp: 1_764_403_200, status: { running: 'running', speed: 1.6, load: 420, trapped: 0, vibration_g: 0.035 } }
    const r = await decode('elevator-dtu-json', Buffer.from(JSON.stringify(json)), { json })
    expect(r).toEqual({ ok: true, entries: [{ ts: 1_764_403_200_000, values: { running: true, speed_mps: 1.6, car_load_kg: 420, trapped: false, vibration_mg: 35 } }], warnings: [] })
  })

  it('elevator DTU JSON: a word outside the map is refused with what was expected', async () => {
    const json = { timestamp: 1_764_403_200, status: { running: 'sideways', trapped: 0 } }
    const r = await decode('elevator-dtu-json', Buffer.from(JSON.stringify(json)), { json })
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining('status.running = "sideways" is none of') as string })
  })
})
