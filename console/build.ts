// Builds the console when its output is missing or older than its sources. Runs from `npm install`
// (the `prepare` script), before the console tests, and from `up` when the output is missing, so
// the README's two commands give a served console on a fresh clone. A production install without
// dev dependencies (no Vite) skips the build with a note instead of failing the install.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

import { PACKAGE_ROOT } from '../core/package-root.ts'

// From the package root, so the compiled build (dist/console/build.js) finds the same console.
export const CONSOLE_ROOT = path.join(PACKAGE_ROOT, 'console')
export const CONSOLE_DIST = path.join(CONSOLE_ROOT, 'dist')
// shared/ holds the modules the console bundles with the server (eslint.config.js checks it).
const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', '../shared']

function newest(p: string): number {
  if (!existsSync(p)) return 0
  const s = statSync(p)
  if (!s.isDirectory()) return s.mtimeMs
  return Math.max(s.mtimeMs, ...readdirSync(p).map((f) => newest(path.join(p, f))))
}

/** True when dist/index.html is missing or any source changed after it was written. */
export function consoleStale(): boolean {
  const built = path.join(CONSOLE_DIST, 'index.html')
  if (!existsSync(built)) return true
  const at = statSync(built).mtimeMs
  return SOURCES.some((s) => newest(path.join(CONSOLE_ROOT, s)) > at)
}

/** Builds when stale; returns what happened. Never throws for a missing Vite (production install). */
export async function ensureConsoleBuilt(force = false): Promise<'built' | 'fresh' | 'no-vite'> {
  if (!force && !consoleStale()) return 'fresh'
  // Named through a variable so the server's type-check does not load Vite's (DOM-flavoured) types.
  const viteModule: string = 'vite'
  let vite: { build(opts: { configFile: string }): Promise<unknown> }
  try {
    vite = (await import(viteModule)) as typeof vite
  } catch {
    return 'no-vite'
  }
  await vite.build({ configFile: path.join(CONSOLE_ROOT, 'vite.config.ts') })
  precompress(CONSOLE_DIST)
  return 'built'
}

/** Text files worth compressing; images other than SVG are compressed already. */
const COMPRESSIBLE = /\.(js|css|html|svg|webmanifest|json)$/
/** Below this a compressed copy saves less than its headers cost. */
const MIN_BYTES = 1024

/**
 * Brotli (best) and gzip (level 9) copies beside each text file of the bundle, made once at build:
 * the API serves them to browsers that accept them (@fastify/static `preCompressed`, api/app.ts),
 * so a crew's phone loads the desk's JS at a fraction of its size without compressing per request.
 */
export function precompress(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) precompress(file)
    else if (COMPRESSIBLE.test(entry.name) && statSync(file).size >= MIN_BYTES) {
      const bytes = readFileSync(file)
      writeFileSync(`${file}.br`, brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }))
      writeFileSync(`${file}.gz`, gzipSync(bytes, { level: 9 }))
    }
  }
}

/** What the first page load transfers: the scripts and styles index.html names, gzipped (level 9). */
export function initialSize(): string {
  const html = readFileSync(path.join(CONSOLE_DIST, 'index.html'), 'utf8')
  const files = [...html.matchAll(/\/console\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1] ?? '')
  const bytes = files.reduce((sum, f) => sum + gzipSync(readFileSync(path.join(CONSOLE_DIST, f)), { level: 9 }).length, 0)
  return `first load ${(bytes / 1024).toFixed(1)} KB of JS and CSS gzipped (${files.length} files)`
}

// `node --import tsx console/build.ts [--force]`
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.join(CONSOLE_ROOT, 'build.ts')) {
  const outcome = await ensureConsoleBuilt(process.argv.includes('--force'))
  if (outcome === 'no-vite') console.warn('console: Vite is not installed (production install); serving the console needs a prior build')
  else console.log(`console: ${outcome === 'built' ? 'built into' : 'up to date in'} ${path.relative(process.cwd(), CONSOLE_DIST)}; ${initialSize()}`)
}
