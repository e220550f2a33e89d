// Request budgets, counted before any request can slip past them (issue 7, item 6).
//
// - A request with a valid token counts against its token (several people may share an address),
//   keyed by the token's id, which the server chose: a caller cannot pick or vary the key.
// - Anything else counts against the client's address (an IPv6 address by its /64, which one
//   host usually owns whole), so rotating junk in the Authorization header buys nothing.
// - A request that fails authentication (no, malformed, unknown, revoked or expired token) also
//   counts against a smaller per-address budget; past it the answer is 429, not 401. A valid
//   token from the same address is still served: the throttle cannot lock out a user who shares
//   an address (NAT) with whoever is failing. Tokens carry 256 random bits, so being served when
//   one is right teaches a guesser nothing they could use.
// Counters live in @fastify/rate-limit's in-memory LRU (bounded, 5000 keys by default), per process.
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import ipaddr from 'ipaddr.js'
import { AppError } from '../../core/errors.ts'

export interface RateLimitOptions {
  /** Requests per minute per token (or per address without a valid one); 0 = off. */
  perMinute: number
  /** Failed authentications per minute per address before 429; 0 = off. */
  authFailuresPerMinute: number
}

/** One key per client address; an IPv6 client by its /64, an IPv4-mapped one by its IPv4. */
export function addressKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return `address:${ip}`
  const addr = ipaddr.process(ip)
  if (addr.kind() === 'ipv4') return `address:${addr.toString()}`
  return `address:${ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/64`).toString()}/64`
}

/** Counts one failed authentication of the request's address; throws `rate_limited` once over the budget. */
export type FailureCounter = (req: FastifyRequest) => Promise<void>

declare module 'fastify' {
  interface FastifyInstance {
    /** Set when failed authentications are limited (see RATE_LIMIT_AUTH_FAILURES_PER_MINUTE). */
    authFailures: FailureCounter | null
    /**
     * Whether the request's address is over its failure budget now, without counting: a password
     * sign-in asks first, so that a guesser is refused even when the guess is right.
     */
    authBlocked: ((req: FastifyRequest) => boolean) | null
  }
}

function tooMany(max: number, ttlMs: number): AppError {
  return new AppError('rate_limited', `Too many requests: at most ${max} per minute; retry in ${Math.ceil(ttlMs / 1000)} s`)
}

export default fp(
  async (app: FastifyInstance, opts: RateLimitOptions) => {
    app.decorate('authFailures', null)
    app.decorate('authBlocked', null)
    if (opts.perMinute <= 0 && opts.authFailuresPerMinute <= 0) return
    await app.register(rateLimit, {
      global: opts.perMinute > 0,
      max: Math.max(opts.perMinute, 1),
      timeWindow: 60_000,
      // After authentication (onRequest), before the body is parsed or validated: every request
      // that reaches a route is counted, whether or not it then turns out to be invalid.
      hook: 'preParsing',
      keyGenerator: (req) => (req.principal ? `token:${req.principal.tokenId}` : addressKey(req.ip)),
      allowList: (req) => ['/health', '/ready', '/readyz', '/livez', '/metrics'].includes(req.url),
      errorResponseBuilder: (_req, ctx) => tooMany(ctx.max, ctx.ttl),
    })
    if (opts.authFailuresPerMinute > 0) {
      const check = app.createRateLimit({ max: opts.authFailuresPerMinute, keyGenerator: (req) => `auth-failure:${addressKey(req.ip)}`, allowList: () => false })
      // Addresses over the budget, until when (bounded like the limiter's own store).
      const blocked = new Map<string, number>()
      app.authFailures = async (req) => {
        const limit = await check(req)
        if (!limit.isAllowed && limit.isExceeded) {
          if (blocked.size >= 5000) blocked.clear()
          blocked.set(addressKey(req.ip), Date.now() + limit.ttl)
          throw tooMany(limit.max, limit.ttl)
        }
      }
      app.authBlocked = (req) => {
        const key = addressKey(req.ip)
        const until = blocked.get(key)
        if (until === undefined) return false
        if (until > Date.now()) return true
        blocked.delete(key)
        return false
      }
    }
  },
  { name: 'rate-limit' },
)
