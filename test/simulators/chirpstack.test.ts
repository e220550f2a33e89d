// The ChirpStack simulator sends what the real sensors send: its frames, decoded by the shipped
// profiles in the sandbox, give back the model's values (to the sensors' resolution), and its
// events have the shape of ChirpStack's documented `up` event.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodePayload } from '../../core/decoders/decode.ts'
import { DEFAULT_SANDBOX_LIMITS, DecoderSandbox } from '../../core/decoders/sandbox.ts'
import { SHIPPED_PROFILES } from '../../core/profiles/catalogue.ts'
import { profileSchema } from '../../core/profiles/schema.ts'
import { EM320_TILT_FPORT, LDDS75_FPORT, em320TiltFrame, ldds75Frame, simulatedDevEui, upEvent, uplinkOf } from '../../simulators/chirpstack.ts'

const decoderOf = (id: string) => {
  const p = profileSchema.parse(SHIPPED_PROFILES.find((x) => x.id === id))
  if (!p.decoder) throw new Error(`${id} has no decoder`)
  return { decoder: p.decoder, variables: p.variables }
}

describe('ChirpStack simulator frames', () => {
  const sandbox = new DecoderSandbox({ ...DEFAULT_SANDBOX_LIMITS, timeLimitMs: 5000 })
  beforeAll(() => sandbox.start())
  afterAll(() => sandbox.stop())
  const decode = (id: string, bytes: Buffer, fPort: number) => decodePayload(decoderOf(id), { bytes, fPort, receivedAt: Date.now() }, sandbox)

  it("encodes the vendor's EM320-TILT example byte for byte", () => {
    // Milesight's README example: battery 100 %, X 0°, Y 0° (flag set there), Z 90°; ours sets no flags.
    expect(em320TiltFrame(100, 0).toString('hex')).toBe('017564' + '03d4' + '0000' + '0000' + '5046')
  })

  it('an EM320-TILT frame decodes to the battery and tilt it was made from', async () => {
    expect(await decode('milesight-em320-tilt', em320TiltFrame(73.4, 12.3), EM320_TILT_FPORT)).toMatchObject({ ok: true, entries: [{ values: { battery_pct: 73, cover_tilt_deg: 12.3 } }] })
  })

  it('an LDDS75 frame decodes to the water level (4.0 m mount), clamped to the blind zone', async () => {
    expect(await decode('dragino-ldds75-tank', ldds75Frame(1.179), LDDS75_FPORT)).toMatchObject({ ok: true, entries: [{ values: { water_level_m: 1.179 } }] })
    expect(await decode('dragino-ldds75-tank', ldds75Frame(3.9), LDDS75_FPORT)).toMatchObject({ ok: true, entries: [{ values: { water_level_m: 3.72 } }] })
  })

  it('builds up events with the documented fields; elevators carry a decoded object instead of data', () => {
    const doc = JSON.parse(readFileSync(new URL('../fixtures/chirpstack/up.json', import.meta.url), 'utf8')) as Record<string, unknown>
    const event = upEvent({ applicationId: 'app', devEui: simulatedDevEui('mh-1'), deviceName: 'mh-1', time: 0, fCnt: 1, ...uplinkOf('manhole', { battery_pct: 50, cover_tilt_deg: 1 }) })
    for (const key of Object.keys(doc)) expect(event, key).toHaveProperty(key)
    expect(event.time).toBe('1970-01-01T00:00:00.000Z')
    expect(simulatedDevEui('mh-1')).toMatch(/^[0-9a-f]{16}$/)
    expect(uplinkOf('elevator', { running: true })).toEqual({ fPort: 1, object: { running: true } })
  })
})
