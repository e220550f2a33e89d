// Real, small images for upload tests, drawn with the PNG encoder of core/png.ts, so a test needs no
// image file and no image library.
import { encodePng as png, type Rgb } from '../../core/png.ts'

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
