// The rules engine saves its place in the feed only up to the reports the API has taken
// (rules/reporter.ts settledThrough). A report still unsent when the engine stops must keep the
// place before it, or the next start would skip the fault it reports.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import { ApiReporter } from '../../rules/reporter.ts'

describe('alert reporter', () => {
  let server: http.Server
  let status = 503
  let url = ''

  beforeAll(async () => {
    // An API that answers "unavailable" until told otherwise.
    server = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end('{}'))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  const raise = { ruleId: 'r', deviceId: 'd', condition: 'active' as const, value: 1, at: new Date().toISOString(), repeat: false }

  it('counts a raise as settled only once the API took it, also after a stop that could not send it', async () => {
    status = 503
    const reporter = new ApiReporter({ apiUrl: url, token: 't', maxQueued: 10, retryBaseMs: 20, retryMaxMs: 20 }, silentLogger)
    reporter.enqueue(raise)
    expect(reporter.settledThrough()).toBe(0)
    await reporter.stop(100)
    expect(reporter.lastSeq).toBe(1)
    expect(reporter.settledThrough()).toBe(0)
  })

  it('counts it settled once delivered', async () => {
    status = 200
    const reporter = new ApiReporter({ apiUrl: url, token: 't', maxQueued: 10 }, silentLogger)
    reporter.enqueue(raise)
    await reporter.flush()
    expect(reporter.settledThrough()).toBe(1)
    await reporter.stop()
  })
})
