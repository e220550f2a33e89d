// Image types by their bytes and sizes by their headers (core/images.ts): each format's way of
// writing its size, and headers that give none or lie about their type.
import { describe, expect, it } from 'vitest'
import { imageSize, sniffImage } from '../../core/images.ts'
import { tinyPng } from '../helpers/images.ts'

const riff = (chunk: Buffer) => {
  const head = Buffer.alloc(12)
  head.write('RIFF', 0, 'latin1')
  head.writeUInt32LE(4 + chunk.length, 4)
  head.write('WEBP', 8, 'latin1')
  return Buffer.concat([head, chunk])
}

/** A lossy WebP's VP8 key frame header: start code 9D 01 2A, then 14-bit width and height (RFC 6386 §9.1). */
function vp8(width: number, height: number): Buffer {
  const c = Buffer.alloc(30)
  c.write('VP8 ', 0, 'latin1')
  c.writeUInt32LE(22, 4)
  c.set([0x9d, 0x01, 0x2a], 11)
  c.writeUInt16LE(width, 14)
  c.writeUInt16LE(height, 16)
  return riff(c)
}

/** A lossless WebP's VP8L header: signature 0x2F, then width−1 and height−1 in 14 bits each, LSB first. */
function vp8l(width: number, height: number): Buffer {
  const c = Buffer.alloc(13)
  c.write('VP8L', 0, 'latin1')
  c.writeUInt32LE(5, 4)
  c[8] = 0x2f
  c.writeUInt32LE(((width - 1) | ((height - 1) << 14)) >>> 0, 9)
  return riff(c)
}

describe('images', () => {
  it('tells the type by the first bytes', () => {
    expect(sniffImage(tinyPng())).toBe('image/png')
    expect(sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg')
    expect(sniffImage(vp8(1, 1))).toBe('image/webp')
    expect(sniffImage(Buffer.from('GIF89a'))).toBeUndefined()
    expect(sniffImage(Buffer.from('<svg/>'))).toBeUndefined()
  })

  it('reads the size of a PNG and of each kind of WebP', () => {
    expect(imageSize('image/png', tinyPng(37))).toEqual({ width: 37, height: 37 })
    expect(imageSize('image/webp', vp8(1920, 1080))).toEqual({ width: 1920, height: 1080 })
    expect(imageSize('image/webp', vp8l(4000, 3000))).toEqual({ width: 4000, height: 3000 })
  })

  it('skips fill bytes and other segments of a JPEG to its SOF, and gives none without one', () => {
    const sof2 = Buffer.from([0xff, 0xc2, 0x00, 0x11, 8, 0x02, 0x58, 0x03, 0x20, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
    const dht = Buffer.from([0xff, 0xc4, 0x00, 0x04, 0x00, 0x00])
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xff]), dht, sof2])
    // Progressive (SOF2), after a Huffman table (C4, which is not a frame header) and a fill byte.
    expect(imageSize('image/jpeg', jpeg)).toEqual({ width: 800, height: 600 })
    expect(imageSize('image/jpeg', Buffer.concat([Buffer.from([0xff, 0xd8]), dht, Buffer.from([0xff, 0xda, 0, 2, 0, 0, 0, 0, 0, 0])]))).toBeUndefined()
    expect(imageSize('image/jpeg', Buffer.from([0xff, 0xd8, 0xff]))).toBeUndefined()
  })

  it('gives none for a header of zero pixels or one cut short', () => {
    const zero = Buffer.from(tinyPng())
    zero.writeUInt32BE(0, 16)
    expect(imageSize('image/png', zero)).toBeUndefined()
    expect(imageSize('image/png', tinyPng().subarray(0, 20))).toBeUndefined()
    expect(imageSize('image/webp', vp8(10, 10).subarray(0, 20))).toBeUndefined()
  })
})
