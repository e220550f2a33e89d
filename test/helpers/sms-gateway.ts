// A local HTTP SMS gateway for the notification tests: records every request it accepts and can
// be told to fail (5xx, 429 with Retry-After), to hold answers, or to stop listening altogether
// (connection refused) and come back on the same port.
import http from 'node:http'
import { freePort } from './services.ts'

export interface ReceivedSms {
  to: string
  text: string
  authorization: string | undefined
}

export type GatewayMode = { status: 200 } | { status: 500 } | { status: 400 } | { status: 429; retryAfterS: number } | { hold: true }

export class SmsGateway {
  readonly received: ReceivedSms[] = []
  /** Answers to give, one per request, before falling back to 200. */
  readonly script: GatewayMode[] = []
  private held: (() => void)[] = []
  private holding = false
  private server: http.Server | undefined
  port = 0

  /** `host`: another loopback address (127.0.0.2) lets a test allow-list the gateway alone. */
  constructor(private readonly host = '127.0.0.1') {}

  async start(port?: number): Promise<void> {
    this.port = port ?? (await freePort())
    this.server = http.createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (c: string) => (body += c))
      req.on('end', () => {
        const mode = this.script.shift() ?? { status: 200 }
        const answer = () => {
          if ('hold' in mode || mode.status === 200) {
            const parsed = JSON.parse(body) as { to: string; text: string }
            this.received.push({ to: parsed.to, text: parsed.text, authorization: req.headers.authorization })
            res.writeHead(200, { 'content-type': 'application/json' }).end('{"code":0}')
          } else if (mode.status === 429) {
            res.writeHead(429, { 'retry-after': String(mode.retryAfterS) }).end('slow down')
          } else if (mode.status === 400) {
            res.writeHead(400).end('no such number')
          } else {
            res.writeHead(500).end('gateway broken')
          }
        }
        if ('hold' in mode || this.holding) this.held.push(answer)
        else answer()
      })
    })
    const server = this.server
    await new Promise<void>((resolve) => server.listen(this.port, this.host, resolve))
  }

  /** Holds every answer until release(). */
  hold(): void {
    this.holding = true
  }

  release(): void {
    this.holding = false
    for (const answer of this.held.splice(0)) answer()
  }

  get pending(): number {
    return this.held.length
  }

  async stop(): Promise<void> {
    this.release()
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  url(): string {
    return `http://${this.host}:${this.port}/sms`
  }

  to(phone: string): ReceivedSms[] {
    return this.received.filter((r) => r.to === phone)
  }
}
