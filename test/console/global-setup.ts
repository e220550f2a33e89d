// Builds the console once before any test file runs, when its output is missing or older than its
// sources (after `npm ci` it is fresh and this is a few stat calls). Once, not per file: parallel
// test files would otherwise race to rebuild the same directory.
import { ensureConsoleBuilt } from '../../console/build.ts'

export default async function setup(): Promise<void> {
  await ensureConsoleBuilt()
}
