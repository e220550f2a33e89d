#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader, so `npm install && npm start` needs no
// build step. tsx is a development dependency: without it (an install with --omit=dev), this runs
// the compiled build, dist/cli/main.js (`npm run build`), which production starts directly.
import { existsSync } from 'node:fs'
import process from 'node:process'
import { URL } from 'node:url'

let register
try {
  ;({ register } = await import('tsx/esm/api'))
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes("'tsx'")) throw err
}
if (register) {
  register()
  await import('../cli/main.ts')
} else {
  const compiled = new URL('../dist/cli/main.js', import.meta.url)
  if (!existsSync(compiled)) {
    process.stderr.write('housing-brain: tsx is not installed (an install without development dependencies) and there is no compiled build in dist/; run `npm run build` where they are installed\n')
    process.exit(1)
  }
  await import(compiled.href)
}
