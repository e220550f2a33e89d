import { describe, expect, it } from 'vitest'
import { onServerTime, replayedTime } from '../../rules/server-time.ts'

describe('server time for the rules', () => {
  const at = Date.UTC(2026, 0, 1, 12)

  it("places a device's newest reading at the receive time and keeps the spacing of its batch", () => {
    // A gateway's buffered batch: mh-1's clock runs 4 min ahead, mh-2's 10 min behind.
    const ahead = at + 240_000
    const behind = at - 600_000
    const out = onServerTime(
      [
        { deviceId: 'mh-1', ts: ahead - 20_000, value: 1 },
        { deviceId: 'mh-2', ts: behind, value: 2 },
        { deviceId: 'mh-1', ts: ahead, value: 3 },
        { deviceId: 'mh-2', ts: behind - 5_000, value: 4 },
      ],
      at,
    )
    expect(out.map((r) => [r.deviceId, r.ts - at, r.value])).toEqual([
      ['mh-1', -20_000, 1],
      ['mh-2', 0, 2],
      ['mh-1', 0, 3],
      ['mh-2', -5_000, 4],
    ])
  })

  it('never replays a stored reading later than now', () => {
    expect(replayedTime(at + 240_000, at)).toBe(at)
    expect(replayedTime(at - 1000, at)).toBe(at - 1000)
  })
})
