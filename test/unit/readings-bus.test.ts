// The committed-readings bus's pure parts and its publisher: stable buckets that keep a gateway
// with its children, partitions that cover every bucket once, the payload both ways, and a
// publisher that groups per bucket, splits large groups, retries a failed send and stays bounded.
import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import { BUS_MAX_ITEMS_PER_MESSAGE, BusPublisher, READINGS_BUCKETS, bucketOf, bucketOfTopic, decodeBusMessage, fnv1a, partitionBuckets, readingsTopic } from '../../core/readings-bus.ts'

describe('buckets and partitions', () => {
  it('hashes with 32-bit FNV-1a (the published test vectors)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5)
    expect(fnv1a('a')).toBe(0xe40c292c)
    expect(fnv1a('foobar')).toBe(0xbf9cf968)
  })

  it("puts a child in its gateway's bucket", () => {
    expect(bucketOf({ id: 'mh-2', gatewayId: 'gw-1' })).toBe(bucketOf({ id: 'gw-1', gatewayId: null }))
    expect(bucketOf({ id: 'mh-2', gatewayId: null })).toBe(fnv1a('mh-2') % READINGS_BUCKETS)
  })

  it('gives every bucket to exactly one process of a partitioning', () => {
    for (const count of [1, 2, 3, 5, 64]) {
      const all = Array.from({ length: count }, (_, index) => partitionBuckets({ index, count })).flat().sort((a, b) => a - b)
      expect(all).toEqual(Array.from({ length: READINGS_BUCKETS }, (_, b) => b))
    }
  })

  it('reads the bucket of a bus topic only', () => {
    expect(bucketOfTopic(readingsTopic(17))).toBe(17)
    for (const t of ['hb/v1/readings/64', 'hb/v1/readings/', 'hb/v1/readings/+', 'hb/v1/devices/mh-1/telemetry']) expect(bucketOfTopic(t)).toBeUndefined()
  })

  it('decodes readings and statuses, leaving malformed items out', () => {
    const payload = Buffer.from(JSON.stringify([{ d: 'a', m: 'x', ts: 1, v: 2, at: 3 }, { d: 'b', s: 'offline', at: 4 }, { d: 'c', m: 'x', v: 'no', at: 5 }, 7, null]))
    expect(decodeBusMessage(payload)).toEqual([{ d: 'a', m: 'x', ts: 1, v: 2, at: 3 }, { d: 'b', s: 'offline', at: 4 }])
    expect(decodeBusMessage(Buffer.from('not json'))).toEqual([])
  })
})

describe('BusPublisher', () => {
  const reading = (deviceId: string, i = 0) => ({ deviceId, metric: 'battery_pct', ts: 1000 + i, value: i })

  it('sends what one turn handed over as one message per bucket, split past the message limit', async () => {
    const sent: { topic: string; items: unknown[] }[] = []
    const bus = new BusPublisher((topic, payload) => {
      sent.push({ topic, items: JSON.parse(payload.toString()) as unknown[] })
      return Promise.resolve()
    }, silentLogger)
    const many = Array.from({ length: BUS_MAX_ITEMS_PER_MESSAGE + 5 }, (_, i) => reading('gw-1', i))
    bus.readings(many, 50, () => null)
    bus.readings([reading('mh-2')], 60, () => 'gw-1')
    bus.status({ id: 'mh-9', gatewayId: null }, 'offline', 70)
    await bus.drain()
    const gwTopic = readingsTopic(bucketOf({ id: 'gw-1', gatewayId: null }))
    const toGateway = sent.filter((m) => m.topic === gwTopic)
    expect(toGateway.map((m) => m.items.length)).toEqual([BUS_MAX_ITEMS_PER_MESSAGE, 6])
    expect(toGateway[1]?.items.at(-1)).toEqual({ d: 'mh-2', m: 'battery_pct', ts: 1000, v: 0, at: 60 })
    expect(sent.find((m) => m.topic === readingsTopic(bucketOf({ id: 'mh-9', gatewayId: null })))?.items).toContainEqual({ d: 'mh-9', s: 'offline', at: 70 })
  })

  it('keeps what a failed send carried and sends it again', async () => {
    let fail = true
    const sent: unknown[] = []
    const bus = new BusPublisher((_topic, payload) => {
      if (fail) return Promise.reject(new Error('not connected'))
      sent.push(...(JSON.parse(payload.toString()) as unknown[]))
      return Promise.resolve()
    }, silentLogger)
    bus.readings([reading('mh-1', 1)], 10, () => null)
    await bus.drain()
    expect(sent).toEqual([])
    fail = false
    await new Promise((r) => setTimeout(r, 1200))
    await bus.drain()
    expect(sent).toEqual([{ d: 'mh-1', m: 'battery_pct', ts: 1001, v: 1, at: 10 }])
    bus.stop()
  })

  it('holds at most its bound while the broker is away, dropping the oldest', async () => {
    let counted = 0
    const bus = new BusPublisher(() => Promise.reject(new Error('not connected')), silentLogger, { maxQueued: 10, onDropped: (n) => (counted += n) })
    bus.readings(Array.from({ length: 25 }, (_, i) => reading('mh-1', i)), 10, () => null)
    await bus.drain()
    expect(bus.droppedCount).toBe(15)
    bus.stop()
    expect(bus.droppedCount).toBe(25)
    expect(counted).toBe(25)
  })
})
