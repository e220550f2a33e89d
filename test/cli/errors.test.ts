// Start-up mistakes are reported plainly, naming what to change, with exit code 1.
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'
import net from 'node:net'

const BIN = path.resolve(import.meta.dirname, '../../bin/housing-brain.js')
const run = promisify(execFile)
const pgUp = await hasPostgres()

async function fails(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 })
  } catch (err) {
    const e = err as { code: number; stderr: string }
    return { code: e.code, stderr: e.stderr }
  }
  throw new Error('the command succeeded')
}

describe('start-up errors', () => {
  it('names a wrong variable and what it expects', async () => {
    const r = await fails(['migrate'], { MQTT_PORT: 'eighteen', LOG_LEVEL: 'loud' })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/Invalid configuration/)
    expect(r.stderr).toMatch(/MQTT_PORT: .*\(got "eighteen"\)/)
    expect(r.stderr).toMatch(/LOG_LEVEL/)
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/) // no stack trace
  })

  it('names an unknown command', async () => {
    const r = await fails(['launch'], {})
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/Unknown command "launch"/)
  })

  it.skipIf(!pgUp)('reports a port in use plainly', async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const addr = blocker.address()
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0
    const tdb = await createTestDatabase()
    try {
      const r = await fails(['broker'], { DATABASE_URL: tdb.url, MQTT_PORT: String(port), LOG_LEVEL: 'warn' })
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`MQTT_PORT: port ${port} on 127.0.0.1 is already in use; stop what holds it or set MQTT_PORT to a free port`)
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/)
    } finally {
      blocker.close()
      await tdb.drop()
    }
  })
})
