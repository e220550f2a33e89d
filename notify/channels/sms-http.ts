// The generic HTTP template SMS adapter: for any gateway that takes one HTTP request per message
// (a carrier's own gateway, a reseller, an in-house SMS modem bridge). The operator describes the
// request — URL, method, headers, a body template with {{phone}} and {{text}} — and what a
// success looks like; the secrets (an API key, a password) go in `secrets` and are substituted as
// {{secret.NAME}}, so they are stored encrypted and never shown back.
//
// Placeholders are escaped for the body's content type (JSON string escaping for a JSON body,
// percent-encoding for a form or a query string) so a message text cannot break the request.
// Failures map onto the outbox's retry rules: connection errors, timeouts, 408, 429 and 5xx are
// retryable (429 honours Retry-After); other 4xx are not — retrying a refused key only annoys.
import { z } from 'zod'
import { DENY_ALL_SPECIAL, type DestinationPolicy } from '../../core/egress.ts'
import type { ChannelAdapter, DeliveryOutcome, Message, Recipient } from '../channel.ts'
import { isReply, request, retryAfterMs } from './http.ts'

export const httpSmsConfigSchema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).describe('May contain {{phone}}, {{text}}, {{secret.NAME}} (percent-encoded)'),
  method: z.enum(['POST', 'PUT', 'GET']).default('POST'),
  headers: z.record(z.string(), z.string()).default({}).describe('Values may contain {{secret.NAME}}'),
  /** `json`: placeholders JSON-escaped; `form`: percent-encoded; `text`: as they are. */
  bodyFormat: z.enum(['json', 'form', 'text']).default('json'),
  body: z.string().max(4000).default('{"to":"{{phone}}","text":"{{text}}"}'),
  success: z
    .object({
      /** HTTP statuses that mean sent; default any 2xx. */
      statuses: z.array(z.number().int().min(100).max(599)).min(1).optional(),
      /** A text the response body must contain (e.g. `"code":0`); default none. */
      bodyContains: z.string().min(1).max(200).optional(),
    })
    .default({}),
  /** The gateway's sending limit, when it documents one (the outbox queues beyond it). */
  perMinute: z.number().int().positive().optional(),
  /**
   * The signature the gateway puts before each message (【长宁房管】, the sign registered with the
   * carrier): counted against the 70-character segment, so the text leaves room for it.
   */
  signature: z.string().max(20).default(''),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
})
export type HttpSmsConfig = z.infer<typeof httpSmsConfigSchema>

export const httpSmsSecretsSchema = z.record(z.string().regex(/^\w+$/), z.string())

export interface HttpSmsDeps {
  /** Where the gateway may be (EGRESS_ALLOW); default public addresses only. */
  egress?: DestinationPolicy
  now?: () => Date
}

type Escape = (s: string) => string
const ESCAPES: Record<HttpSmsConfig['bodyFormat'], Escape> = {
  // JSON.stringify gives a quoted literal; the template supplies the quotes.
  json: (s) => JSON.stringify(s).slice(1, -1),
  form: encodeURIComponent,
  text: (s) => s,
}

/** Fills {{phone}}, {{text}}, {{alert}} and {{secret.NAME}}; an unknown placeholder is left as it is. */
function fill(template: string, values: Record<string, string>, escape: Escape): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, name: string) => {
    const v = values[name]
    return v === undefined ? whole : escape(v)
  })
}

export function createHttpSmsChannel(settings: unknown, secrets: unknown, deps: HttpSmsDeps = {}): ChannelAdapter {
  const cfg = httpSmsConfigSchema.parse(settings)
  const secret = httpSmsSecretsSchema.parse(secrets ?? {})
  const now = deps.now ?? (() => new Date())
  const requestDeps = { egress: deps.egress ?? DENY_ALL_SPECIAL, timeoutMs: cfg.timeoutMs }
  const secretValues = Object.fromEntries(Object.entries(secret).map(([k, v]) => [`secret.${k}`, v]))

  return {
    kind: 'sms_http',
    limits: cfg.perMinute === undefined ? {} : { perMinute: cfg.perMinute },
    smsSignature: cfg.signature,
    async send(message: Message, to: Recipient): Promise<DeliveryOutcome> {
      if (!to.address) return { ok: false, retryable: false, status: 'no address', detail: 'the recipient has no phone number' }
      const values = { ...secretValues, phone: to.address, text: message.short, alert: message.alertId }
      const url = fill(cfg.url, values, encodeURIComponent)
      const headers = Object.fromEntries(Object.entries(cfg.headers).map(([k, v]) => [k, fill(v, values, (s) => s)]))
      if (cfg.method !== 'GET' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['content-type'] = { json: 'application/json', form: 'application/x-www-form-urlencoded', text: 'text/plain; charset=utf-8' }[cfg.bodyFormat]
      }
      // The URL, which may hold a key, is never in the outcome: only the socket error's code.
      const reply = await request(requestDeps, 'SMS gateway', url, {
        method: cfg.method,
        headers,
        ...(cfg.method === 'GET' ? {} : { body: fill(cfg.body, values, ESCAPES[cfg.bodyFormat]) }),
      })
      if (!isReply(reply)) return reply
      const statusOk = cfg.success.statuses ? cfg.success.statuses.includes(reply.status) : reply.status >= 200 && reply.status < 300
      const bodyOk = cfg.success.bodyContains === undefined || reply.text.includes(cfg.success.bodyContains)
      if (statusOk && bodyOk) return { ok: true, retryable: false, status: `http ${reply.status}`, detail: 'accepted by the gateway' }
      const retryable = reply.status === 408 || reply.status === 429 || reply.status >= 500 || (statusOk && !bodyOk)
      const wait = retryAfterMs(reply.headers.get('retry-after'), now().getTime())
      return {
        ok: false,
        retryable,
        ...(wait === undefined ? {} : { retryAfterMs: wait }),
        status: `http ${reply.status}`,
        detail: statusOk ? 'the gateway answered without the success marker' : `the gateway answered ${reply.status}`,
      }
    },
  }
}
