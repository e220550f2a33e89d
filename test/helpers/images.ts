// Real, small images for upload tests: a PNG built here (signature, IHDR, IDAT, IEND with their
// CRCs, RFC 2083), so a test needs no image file and no image library.
import { deflateSync } from 'node:zlib'

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(b: Buffer): number {
  let c = 0xffffffff
  for (const x of b) c = (CRC_TABLE[(c ^ x) & 0xff] ?? 0) ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}

type Rgb = [number, number, number]

/** A `width`×`height` 8-bit RGB PNG whose pixel (x, y) has the colour `at` gives. */
function png(width: number, height: number, at: (x: number, y: number) => Rgb): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 2, 0, 0, 0], 8)
  const rows = Array.from({ length: height }, (_, y) => Buffer.from([0, ...Array.from({ length: width }, (_, x) => at(x, y)).flat()]))
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))])
}

/** A `size`×`size` PNG of one colour (8-bit RGB). */
export function tinyPng(size = 8, rgb: Rgb = [200, 60, 40]): Buffer {
  return png(size, size, () => rgb)
}

/** A site plan to look at: lawn, a road across and round the edge, and rows of buildings. */
export function sitePlanPng(width: number, height: number): Buffer {
  const road = (x: number, y: number) => x < 12 || y < 12 || x >= width - 12 || y >= height - 12 || Math.abs(y - height / 2) < 10
  const building = (x: number, y: number) => (x - 30) % 110 < 70 && x > 30 && x < width - 30 && ((y - 30) % (height / 2) < height / 2 - 70) && y > 30
  return png(width, height, (x, y) => (road(x, y) ? [200, 200, 196] : building(x, y) ? [176, 190, 197] : [226, 236, 220]))
}
