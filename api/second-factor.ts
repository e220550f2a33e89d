// What the sign-in step (routes/session.ts) and the set-up (routes/totp.ts) of one-time codes share:
// the shape of a code in a body, and the key their secrets are sealed with.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { AppError } from '../core/errors.ts'
import { totpKey } from '../core/second-factor.ts'

/** A code of the app (6 digits) or a recovery code (xxxxx-xxxxx); spaces allowed as people type them. */
export const codeField = z.string().trim().min(6).max(20).describe('The 6 digits the authenticator app shows, or a recovery code')

/** The key TOTP secrets are sealed with: a sub-key of the server's secret key, which the notification context carries. */
export function totpKeyOf(app: FastifyInstance): Buffer {
  const key = app.deps.notify?.secretKey
  if (!key) throw new AppError('totp_unavailable')
  return totpKey(key)
}
