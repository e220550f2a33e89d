// The decoder sandbox holds (issue 10): a decoder that throws, loops forever, allocates without
// end, reaches for `process` or `require`, or returns non-numbers is stopped with a reason, and
// the decoders after it run as before; one profile's looping decoder does not keep another's
// waiting behind its backlog, and is suspended (issue 18, item 7). Nothing here asserts how fast.
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

describe('the decoder sandbox with a looping profile among others (issue 18, item 7)', () => {
  const LOOPS = HOSTILE.loops
  const input = { bytes: [87, 10], fPort: 1, recvTime: new Date().toISOString(), variables: {} }

  it("runs another profile's payload before the looping profile's backlog, on the same sandbox", async () => {
    const sandbox = new DecoderSandbox({ ...DEFAULT_SANDBOX_LIMITS, timeLimitMs: 300, killAfterMs: 1000, suspendAfter: 100 })
    await sandbox.start()
    try {
      let loopsDone = 0
      const backlog = Array.from({ length: 6 }, () => sandbox.run(LOOPS, input, 'profile:loops').then((o) => (loopsDone++, o)))
      const good = await sandbox.run(GOOD, input, 'profile:good')
      expect(good).toMatchObject({ ok: true })
      // Decoded while the looping profile's payloads still wait (one worker runs them in turn).
      expect(loopsDone).toBeLessThan(backlog.length)
      const outcomes = await Promise.all(backlog)
      expect(outcomes.every((o) => !o.ok && /ran longer than 300 ms/.test(o.reason))).toBe(true)
    } finally {
      await sandbox.stop()
    }
  })

  it('suspends a decoder that used its whole budget 3 times in a row: the rest of its payloads fail at once with the reason, other profiles go on', async () => {
    const sandbox = new DecoderSandbox({ ...DEFAULT_SANDBOX_LIMITS, timeLimitMs: 300, killAfterMs: 1000 })
    await sandbox.start()
    try {
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => sandbox.run(LOOPS, input, 'profile:loops')))
      const reasons = outcomes.map((o) => (o.ok ? 'ok' : o.reason))
      expect(reasons.filter((r) => /ran longer than 300 ms/.test(r))).toHaveLength(DEFAULT_SANDBOX_LIMITS.suspendAfter)
      expect(reasons.filter((r) => /^decoder suspended until \S+Z: it used its whole time budget 3 times in a row$/.test(r))).toHaveLength(8 - DEFAULT_SANDBOX_LIMITS.suspendAfter)
      expect(await sandbox.run(LOOPS, input, 'profile:loops')).toMatchObject({ ok: false, reason: expect.stringMatching(/^decoder suspended until/) as string })
      expect(await sandbox.run(GOOD, input, 'profile:good')).toMatchObject({ ok: true })
    } finally {
      await sandbox.stop()
    }
  })
})

