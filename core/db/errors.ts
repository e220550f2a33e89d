// Which database failures are worth retrying.
//
// A transient failure says nothing about the statement: the connection, the server or a
// concurrent transaction got in the way, and the same statement will succeed later. Anything else
// is deterministic — the same rows fail the same way every time (PostgreSQL refusing U+0000 with
// SQLSTATE 22021 was issue 7, item 1) — and retrying it forever stops everything queued behind it.
// Classes per PostgreSQL's Appendix A, "PostgreSQL Error Codes".

/** SQLSTATE classes and codes after which the same statement may well succeed. */
const TRANSIENT_CLASSES = new Set([
  '08', // connection exception
  '40', // transaction rollback: serialization failure, deadlock
  '53', // insufficient resources: disk full, out of memory, too many connections
])
const TRANSIENT_CODES = new Set([
  '55P03', // lock not available
  '57P01', // admin shutdown (server restarting, or pg_terminate_backend)
  '57P02', // crash shutdown
  '57P03', // cannot connect now (starting up, recovery)
  '57014', // query canceled (statement timeout)
  '58030', // I/O error
])
/** Node socket and DNS errors: the path to the server, not the statement. */
const SOCKET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
])
/** `pg` reports a dead or unavailable connection with a bare Error and one of these messages. */
const CONNECTION_MESSAGES = /Connection terminated|Connection ended|not queryable|timeout exceeded when trying to connect|Cannot use a pool after calling end/i

export type DbFailure = 'transient' | 'data'

/**
 * No connection could be had, whatever the server said (database not accepting connections, 55000;
 * does not exist, 3D000; authentication, 28xxx): nothing about the statement, so always transient.
 */
export class DbConnectError extends Error {
  constructor(override readonly cause: unknown) {
    super(`could not connect to the database: ${cause instanceof Error ? cause.message : String(cause)}`)
    this.name = 'DbConnectError'
  }

  get code(): string | undefined {
    return errorCode(this.cause)
  }
}

/** Classifies an error thrown by a query or transaction; see the file header. */
export function classifyDbError(err: unknown): DbFailure {
  if (typeof err !== 'object' || err === null) return 'data'
  if (err instanceof DbConnectError) return 'transient'
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return 'transient'
    if (/^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_CLASSES.has(code.slice(0, 2)) || TRANSIENT_CODES.has(code) ? 'transient' : 'data'
  }
  const message = (err as { message?: unknown }).message
  if (typeof message === 'string' && CONNECTION_MESSAGES.test(message)) return 'transient'
  // An AggregateError (several addresses refused) carries the socket errors inside it.
  const inner = (err as { errors?: unknown }).errors
  if (Array.isArray(inner) && inner.length > 0 && inner.every((e) => classifyDbError(e) === 'transient')) return 'transient'
  return 'data'
}

/** The SQLSTATE (or Node error code) of an error, for messages and logs. */
export function errorCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : undefined
}
