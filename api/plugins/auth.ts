// Bearer-token authentication for /api: resolves the token to a principal (user, role, company).
// Revocations made through the API are announced on `app.revocations`, so that what outlives a
// request (an open alert stream) ends with its token.
import { EventEmitter } from 'node:events'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Db } from '../../core/db/client.ts'
import { AppError } from '../../core/errors.ts'
import { authenticate, isTokenOfDisabledUser, type Principal } from '../../core/repos/tokens.ts'

/** A token revoked, or every token of a user. */
export type Revocation = { tokenId: string; userId?: undefined } | { userId: string; tokenId?: undefined }

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
  interface FastifyInstance {
    revocations: EventEmitter<{ revoked: [Revocation] }>
  }
}

export default fp(
  (app: FastifyInstance, opts: { db: Db }) => {
    app.decorateRequest('principal', null)
    const revocations = new EventEmitter<{ revoked: [Revocation] }>()
    // One listener per open stream; the streams per token are capped, not the tokens.
    revocations.setMaxListeners(0)
    app.decorate('revocations', revocations)
    app.addHook('onRequest', async (req) => {
      if (!req.url.startsWith('/api/')) return
      const header = req.headers.authorization
      const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null
      // Every failure counts against the address's budget (429 once over it; see rate-limit.ts).
      const fail = async (err: AppError): Promise<never> => {
        await app.authFailures?.(req)
        throw err
      }
      if (!match?.[1]) return fail(new AppError('unauthorized'))
      const principal = await authenticate(opts.db, match[1])
      if (!principal) {
        if (await isTokenOfDisabledUser(opts.db, match[1])) return fail(new AppError('user_disabled'))
        return fail(new AppError('unauthorized', 'The bearer token is unknown, revoked or expired'))
      }
      req.principal = principal
    })
  },
  { name: 'auth' },
)
