import { PassThrough } from 'node:stream'
import mqttPacket from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { limitPacketSize } from '../../broker/packet-limit.ts'

function publish(payloadBytes: number): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic: 'hb/v1/devices/x/telemetry', payload: Buffer.alloc(payloadBytes, 0x61), qos: 0, dup: false, retain: false })
}

/** Feeds `bytes` in chunks of `size` the way a reader consuming the stream would see them. */
function feed(bytes: Buffer, size: number, limit: number): { violation: number | undefined; destroyed: boolean } {
  const stream = new PassThrough()
  let violation: number | undefined
  limitPacketSize(stream, limit, (announced) => (violation = announced))
  for (let i = 0; i < bytes.length && !stream.destroyed; i += size) stream.emit('data', bytes.subarray(i, i + size))
  return { violation, destroyed: stream.destroyed }
}

describe('packet size limit', () => {
  it('lets packets up to the limit through, however the stream is chunked', () => {
    const packets = Buffer.concat([publish(10), publish(200), mqttPacket.generate({ cmd: 'pingreq' }), publish(900), publish(0)])
    for (const size of [1, 2, 3, 7, 64, 4096]) expect(feed(packets, size, 1000)).toEqual({ violation: undefined, destroyed: false })
  })

  it('cuts the connection when a packet over the limit is announced, before its body', () => {
    const big = publish(5000)
    for (const size of [1, 3, 100]) {
      const r = feed(Buffer.concat([publish(10), big.subarray(0, 8)]), size, 1000)
      expect(r.destroyed).toBe(true)
      expect(r.violation).toBeGreaterThan(5000)
    }
  })

  it('cuts the connection on a remaining length longer than four bytes', () => {
    const r = feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 1, 1_000_000_000)
    expect(r).toEqual({ violation: -1, destroyed: true })
  })
})
