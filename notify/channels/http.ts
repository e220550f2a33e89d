// What every HTTP channel shares: one request with a deadline, and one mapping from an HTTP
// failure to a DeliveryOutcome, so that a 429 from DingTalk and a 429 from Tencent are retried the
// same way. The outcome never carries the URL (WeCom and DingTalk put their key in the query), a
// header or a response body: only the status and a sentence we wrote. Every request goes through the
// egress guard (core/egress.ts): there is no other way out of this module.
import { DestinationDenied, guardedFetch, type DestinationPolicy } from '../../core/egress.ts'
import type { DeliveryOutcome } from '../channel.ts'

export interface ChannelDeps {
  /** Epoch milliseconds; signatures and timestamps use it, so tests pin it. */
  now: () => number
  /** Per-request random value (Aliyun SignatureNonce); tests pin it. */
  nonce: () => string
  /** Abort one request after this long; a hung vendor must not hold the outbox. */
  timeoutMs: number
  /** Where requests may go (EGRESS_ALLOW), checked on the address of every connection. */
  egress: DestinationPolicy
}

export interface HttpReply {
  status: number
  headers: Headers
  text: string
}

export function delivered(status: string, detail: string): DeliveryOutcome {
  return { ok: true, retryable: false, status, detail }
}

export function failed(retryable: boolean, status: string, detail: string, retryAfterMs?: number): DeliveryOutcome {
  return retryAfterMs === undefined ? { ok: false, retryable, status, detail } : { ok: false, retryable, status, detail, retryAfterMs }
}

/** One request; a network error or a timeout comes back as a retryable outcome, never a throw. */
export async function request(deps: Pick<ChannelDeps, 'egress' | 'timeoutMs'>, what: string, url: string, init: RequestInit): Promise<HttpReply | DeliveryOutcome> {
  try {
    const res = await guardedFetch(deps.egress)(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(deps.timeoutMs) })
    return { status: res.status, headers: res.headers, text: await res.text() }
  } catch (err) {
    const cause = err instanceof Error ? err.cause : undefined
    if (cause instanceof DestinationDenied) return failed(false, 'destination denied', `${what}: the address is ${cause.range}; not allowed by EGRESS_ALLOW`)
    // The error's message may quote the URL (and so the key): only its code is kept.
    const code = networkCode(err)
    return failed(true, code, `${what} unreachable (${code})`)
  }
}

export function isReply(value: HttpReply | DeliveryOutcome): value is HttpReply {
  return 'text' in value
}

function networkCode(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timeout'
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined
  return typeof cause?.code === 'string' ? cause.code : 'network error'
}

/**
 * RFC 9110 §10.2.3: Retry-After is either delay-seconds or an HTTP-date. Anything else is ignored
 * (the outbox's own backoff applies).
 */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * A non-2xx answer: 408, 429 and 5xx are worth retrying (429 after the vendor's Retry-After);
 * every other 4xx means the request itself is wrong and will stay wrong.
 */
export function httpFailure(reply: HttpReply, what: string, now: number): DeliveryOutcome {
  const status = `http ${reply.status}`
  if (reply.status === 429) return failed(true, status, `${what} rate limited`, retryAfterMs(reply.headers.get('retry-after'), now))
  if (reply.status === 408 || reply.status >= 500) return failed(true, status, `${what} failed temporarily`, retryAfterMs(reply.headers.get('retry-after'), now))
  return failed(false, status, `${what} refused the request`)
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** What a vendor's error code means for retrying, from its documented error table. */
export interface CodeMeaning {
  retryable: boolean
  retryAfterMs?: number
  meaning: string
}

/** Bots answer `{errcode, errmsg}` (WeCom, DingTalk) or `{code, msg}` (Feishu) with HTTP 200. */
export function codeOutcome(what: string, code: number | string, table: Record<string, CodeMeaning>): DeliveryOutcome {
  const known = table[String(code)]
  // An unknown code with HTTP 200 is the vendor refusing this request (bad key, bad content): retrying
  // the same request cannot help, and the delivery log names the code for the operator.
  if (known === undefined) return failed(false, `errcode ${code}`, `${what} refused the message (errcode ${code})`)
  return failed(known.retryable, `errcode ${code}`, `${what}: ${known.meaning}`, known.retryAfterMs)
}

/** Cuts a UTF-8 string to at most `max` bytes without splitting a character. */
export function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text
  let out = ''
  let used = 0
  for (const ch of text) {
    const size = Buffer.byteLength(ch)
    if (used + size > max - 3) break
    out += ch
    used += size
  }
  return `${out}...`
}

/** The words before the acknowledge link, in the recipient's language. */
export function linkLabel(locale: 'zh-CN' | 'en'): string {
  return locale === 'zh-CN' ? '查看并确认' : 'Open and acknowledge'
}

/** The base URL with no trailing slash, so `${base}/path` never doubles it. */
export function trimBase(base: string): string {
  return base.replace(/\/+$/, '')
}
