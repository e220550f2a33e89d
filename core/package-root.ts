// Where the running code sits: the TypeScript sources (tsx, Vitest) or the compiled build in dist/
// (`npm run build`). Files that are not code — the built console, Node-RED's shipped flows — are
// read from the package root in both cases and never copied into dist/: one copy, whichever code
// runs. Code (the .js worker threads too) goes through the compiler and sits beside its module.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

function packageRootAbove(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
    if (path.dirname(dir) === dir) throw new Error(`no package.json in ${from} or above it`)
  }
}

/** The folder of housing-brain's package.json, from the sources (core/..) and from dist/core/../... */
export const PACKAGE_ROOT = packageRootAbove(import.meta.dirname)

/** True when this is the compiled build (dist/*.js), false when the TypeScript sources run. */
export const COMPILED = import.meta.url.endsWith('.js')

/** The command line to start a child `housing-brain` with: the compiled entry, or bin/ (tsx) from the sources. */
export const CLI_ENTRY = COMPILED ? path.resolve(import.meta.dirname, '../cli/main.js') : path.join(PACKAGE_ROOT, 'bin', 'housing-brain.js')

/**
 * Node's arguments to run the module `name` (no extension) beside the module at `url` as a child
 * process: `file.js` when compiled, `--import tsx file.ts` from the sources (tsx is a development
 * dependency, resolved only then).
 */
export function childModuleArgs(url: string, name: string): string[] {
  const file = path.join(path.dirname(fileURLToPath(url)), `${name}${COMPILED ? '.js' : '.ts'}`)
  return COMPILED ? [file] : ['--import', import.meta.resolve('tsx'), file]
}
