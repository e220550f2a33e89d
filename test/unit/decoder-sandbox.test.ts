// The decoder sandbox holds (issue 10): a decoder that throws, loops forever, allocates without
// end, reaches for `process` or `require`, or returns non-numbers is stopped with a reason, and
// the decoders after it run as before. Nothing here asserts how fast.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodePayload, type DecodeResult } from '../../core/decoders/decode.ts'
import { DEFAULT_SANDBOX_LIMITS, DecoderSandbox } from '../../core/decoders/sandbox.ts'

const GOOD = `function decodeUplink(input) {
  return { data: { battery_pct: input.bytes[0], cover_tilt_deg: input.bytes[1] / 2 } }
}`

const HOSTILE = {
  throws: `function decodeUplink(input) { throw new RangeError('byte 3 out of range') }`,
  loops: `function decodeUplink(input) { for (;;) {} }`,
  allocates: `function decodeUplink(input) { var hoard = []; for (;;) hoard.push(new Array(100000).fill(input.bytes[0])) }`,
  process: `function decodeUplink(input) { return { data: { battery_pct: process.memoryUsage().rss } } }`,
  require: `function decodeUplink(input) { var fs = require('fs'); return { data: { battery_pct: fs.readFileSync('/etc/passwd').length } } }`,
  nonNumbers: `function decodeUplink(input) { return { data: { battery_pct: 'full', cover_tilt_deg: { deg: 3 } } } }`,
}

describe('the decoder sandbox', () => {
  // A time limit no good decoder reaches on a busy machine: what is tested is that bad ones stop.
  const sandbox = new DecoderSandbox({ ...DEFAULT_SANDBOX_LIMITS, timeLimitMs: 1000, killAfterMs: 1000 })
  beforeAll(() => sandbox.start())
  afterAll(() => sandbox.stop())

  const decode = (script: string): Promise<DecodeResult> =>
    decodePayload({ decoder: { script }, variables: {} }, { bytes: Buffer.from([87, 10]), fPort: 1, receivedAt: Date.now() }, sandbox)

  it('runs a good decoder', async () => {
    expect(await decode(GOOD)).toEqual({ ok: true, entries: [{ values: { battery_pct: 87, cover_tilt_deg: 5 } }], warnings: [] })
  })

  it.each([
    ['throws', /threw RangeError: byte 3 out of range/],
    ['loops', /ran longer than 1000 ms and was stopped/],
    ['allocates', /out of memory|ran longer than 1000 ms and was stopped/],
    ['process', /ReferenceError: 'process' is not defined/],
    ['require', /ReferenceError: 'require' is not defined/],
    ['nonNumbers', /returned "full" for "battery_pct", not a number or boolean/],
  ] as const)('stops a decoder that %s, with the reason, and the next good decoder still runs', async (name, reason) => {
    const r = await decode(HOSTILE[name])
    expect(r.ok).toBe(false)
    expect(r.ok ? '' : r.reason).toMatch(reason)
    expect(await decode(GOOD)).toMatchObject({ ok: true })
  })

  it('keeps decoding other devices while a hostile decoder is stopped', async () => {
    const results = await Promise.all([decode(GOOD), decode(HOSTILE.allocates), decode(GOOD), decode(HOSTILE.loops), decode(GOOD)])
    expect(results.map((r) => r.ok)).toEqual([true, false, true, false, true])
  })

  it('gives a host object nothing: globalThis holds only the language built-ins', async () => {
    const r = await decode(`function decodeUplink() {
      var names = Object.getOwnPropertyNames(globalThis)
      var hostish = ['process', 'require', 'module', 'Buffer', 'fetch', 'setTimeout', 'WebAssembly'].filter(function (n) { return names.indexOf(n) >= 0 })
      return { data: { battery_pct: hostish.length } }
    }`)
    expect(r).toMatchObject({ ok: true, entries: [{ values: { battery_pct: 0 } }] })
  })
})
