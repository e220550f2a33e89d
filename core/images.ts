// Uploaded images (alert photos, site plans): their type by their magic bytes, never by a header
// or a file name — JPEG (FF D8 FF, ISO/IEC 10918-1 SOI marker), PNG (the 8-byte signature, RFC 2083
// §3.1), WebP (a RIFF container of form type "WEBP", RFC 9649 §2.5) — and their pixel size read from
// their header without decoding them: a site plan is drawn at its natural size, so its width and
// height are stored with it, and one whose header gives none is refused rather than drawn wrong.
// Sources of the sizes: PNG IHDR (RFC 2083 §4.1.1); JPEG SOFn segments (ITU T.81 §B.2.2); WebP's VP8, VP8L and
// VP8X chunks (RFC 9649 §2.5–2.7, RFC 6386 §9.1 and the VP8L bitstream specification §3).

import type { PhotoType } from './repos/photos.ts'

/** The image type of `b` by its first bytes; undefined when it is none of the accepted ones. */
export function sniffImage(b: Uint8Array): PhotoType | undefined {
  const starts = (sig: number[], at = 0) => sig.every((x, i) => b[at + i] === x)
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png'
  // "RIFF" <size> "WEBP"
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp'
  return undefined
}

export interface ImageSize {
  width: number
  height: number
}

const u16be = (b: Uint8Array, at: number) => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0)
const u16le = (b: Uint8Array, at: number) => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8)
const u24le = (b: Uint8Array, at: number) => u16le(b, at) | ((b[at + 2] ?? 0) << 16)
const u32be = (b: Uint8Array, at: number) => u16be(b, at) * 65536 + u16be(b, at + 2)
const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n))

function png(b: Uint8Array): ImageSize | undefined {
  if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') return undefined
  return { width: u32be(b, 16), height: u32be(b, 20) }
}

function jpeg(b: Uint8Array): ImageSize | undefined {
  let at = 2
  while (at + 9 < b.length) {
    if (b[at] !== 0xff) return undefined
    const marker = b[at + 1] ?? 0
    // Fill bytes, and markers that stand alone (TEM, RSTn, SOI): no length follows.
    if (marker === 0xff) {
      at += 1
      continue
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2
      continue
    }
    // SOF0…SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { height: u16be(b, at + 5), width: u16be(b, at + 7) }
    if (marker === 0xd9 || marker === 0xda) return undefined
    at += 2 + u16be(b, at + 2)
  }
  return undefined
}

function webp(b: Uint8Array): ImageSize | undefined {
  const chunk = ascii(b, 12, 4)
  if (chunk === 'VP8 ' && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff }
  if (chunk === 'VP8L' && b[20] === 0x2f) {
    const bits = u16le(b, 21) + (u16le(b, 23) * 65536)
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 }
  }
  if (chunk === 'VP8X' && b.length >= 30) return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 }
  return undefined
}

/** The size of an image of `type` (as the bytes were sniffed); undefined when its header says none. */
export function imageSize(type: PhotoType, b: Uint8Array): ImageSize | undefined {
  const size = type === 'image/png' ? png(b) : type === 'image/jpeg' ? jpeg(b) : webp(b)
  return size && size.width > 0 && size.height > 0 ? size : undefined
}
