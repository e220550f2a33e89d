// A local stand-in for a vendor's HTTP API: it records every request exactly as it arrived (method,
// raw URL, headers, body bytes) and answers with whatever the test scripted, so a test can check
// the request byte for byte and drive the adapter through success, rate limits, 5xx and refusals.
import http from 'node:http'
import { freePort } from '../helpers/services.ts'
import type { DeliveryOutcome, Message } from '../../notify/channel.ts'
import { expect } from 'vitest'

export interface Received {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: Buffer
  /** performance.now() when the request had arrived whole (for latencies measured in tests). */
  at: number
}

export interface Answer {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export interface VendorServer {
  base: string
  received: Received[]
  /** The next answers, in order; the last one repeats. */
  answer: (...answers: Answer[]) => void
  close: () => Promise<void>
}

/** `host`: another loopback address (127.0.0.2) lets a test allow-list this server alone. */
export async function vendorServer(host = '127.0.0.1'): Promise<VendorServer> {
  const received: Received[] = []
  let script: Answer[] = [{ status: 200, body: {} }]
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: performance.now() })
      const next = script.length > 1 ? script.shift() : script[0]
      const a = next ?? { status: 200 }
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers })
      res.end(a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body))
    })
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, host, resolve))
  return {
    base: `http://${host}:${port}`,
    received,
    answer: (...answers) => {
      script = answers
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** A port nothing listens on: connection refused. */
export async function closedBase(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`
}

export const message: Message = {
  locale: 'zh-CN',
  alertId: '0b6f7c1e-alert',
  severity: 'critical',
  subject: '【紧急】幸福小区 3号楼 电梯困人',
  text: '3号楼 2号电梯 有人被困\n请在 15:30 前确认',
  short: '紧急:幸福小区3号楼电梯困人,15:30前确认 https://hb.example/a/Xy12',
  link: 'https://hb.example/a/Xy12',
  params: { place: '幸福小区(北区)3号楼', what: '电梯困人', deadline: '15:30', link: 'https://hb.example/a/Xy12' },
}

/** Pinned clock: 2026-03-01T08:00:00.123Z. */
export const NOW = Date.UTC(2026, 2, 1, 8, 0, 0, 123)

/** The outcome, its status and detail never carry a secret or an unmasked phone number. */
export function expectClean(outcome: DeliveryOutcome, ...forbidden: string[]): void {
  const text = JSON.stringify(outcome)
  for (const f of forbidden) expect(text).not.toContain(f)
}

export interface OutcomeCase {
  answer: Answer
  expected: Partial<DeliveryOutcome>
}

/** Each scripted answer in turn, and the outcome the adapter makes of it; no retryAfterMs unless expected. */
export async function expectOutcomes(server: VendorServer, send: () => Promise<DeliveryOutcome>, cases: OutcomeCase[], forbidden: string[]): Promise<void> {
  for (const c of cases) {
    server.answer(c.answer)
    const outcome = await send()
    const what = JSON.stringify(c.answer)
    expect(outcome, what).toMatchObject(c.expected)
    if (!('retryAfterMs' in c.expected)) expect(outcome.retryAfterMs, what).toBeUndefined()
    expectClean(outcome, ...forbidden)
  }
}
