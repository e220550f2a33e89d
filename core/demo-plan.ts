// The demo community's site plan (平面图): Xinzhuang Garden drawn as twelve buildings in two rows
// either side of a road, each elevator at its building's door, each fire tank on its roof, the
// manholes along the road — so the map's site plan (docs/map.md) shows something on the first
// start. Drawn here rather than shipped as a file: the positions and the picture come from one layout.
import { createHash } from 'node:crypto'
import { encodePng, type Rgb } from './png.ts'

export const DEMO_PLAN_COMMUNITY = 'cm-xinzhuang'
const W = 1200
const H = 760
const ROAD: Rgb = [205, 205, 200]
const LAWN: Rgb = [226, 236, 220]
const BUILDING: Rgb = [176, 190, 197]

/** Building `i` (0–11): six a row, the first row above the road, the second below. */
function building(i: number): { x: number; y: number; w: number; h: number } {
  return { x: 60 + (i % 6) * 185, y: i < 6 ? 60 : 430, w: 120, h: 250 }
}

const inRoad = (x: number, y: number) => x < 16 || y < 16 || x >= W - 16 || y >= H - 16 || (y >= 360 && y < 400)
const inBuilding = (x: number, y: number) =>
  Array.from({ length: 12 }, (_, i) => building(i)).some((b) => x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h)

/** Where each demo device of the community stands on the plan, as fractions of its width and height. */
export function demoPlanPositions(tag: string): Map<string, { x: number; y: number }> {
  const at = new Map<string, { x: number; y: number }>()
  const put = (id: string, x: number, y: number) => at.set(id, { x: Math.round((x / W) * 1e4) / 1e4, y: Math.round((y / H) * 1e4) / 1e4 })
  const pad = (n: number) => String(n).padStart(3, '0')
  for (let i = 0; i < 12; i++) {
    const b = building(i)
    // The door faces the road; the tank sits on the far corner of the roof.
    put(`el-${tag}-${pad(i + 1)}`, b.x + b.w / 2, i < 6 ? b.y + b.h - 20 : b.y + 20)
    put(`ft-${tag}-${pad(i + 1)}`, b.x + b.w - 22, i < 6 ? b.y + 22 : b.y + b.h - 22)
  }
  for (let k = 0; k < 15; k++) put(`mh-${tag}-${pad(k + 1)}`, 60 + k * 77, 380)
  put(`gw-${tag}-01`, W - 40, 40)
  return at
}

/** The picture: a PNG of W×H with its SHA-256 (the plan's ETag). */
export function demoPlanImage(): { bytes: Buffer; width: number; height: number; sha256: string } {
  const bytes = encodePng(W, H, (x, y) => (inRoad(x, y) ? ROAD : inBuilding(x, y) ? BUILDING : LAWN))
  return { bytes, width: W, height: H, sha256: createHash('sha256').update(bytes).digest('hex') }
}
