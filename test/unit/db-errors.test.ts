// Which database failures the writer retries and which it isolates (core/db/errors.ts).
import { describe, expect, it } from 'vitest'
import { DbConnectError, classifyDbError } from '../../core/db/errors.ts'

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code })

describe('database error classes', () => {
  it('retries connection, serialization, resource, lock, shutdown and cancel failures', () => {
    for (const code of ['08006', '08001', '40001', '40P01', '53100', '53300', '55P03', '57P01', '57P02', '57P03', '57014']) {
      expect(classifyDbError(withCode(code)), code).toBe('transient')
    }
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']) expect(classifyDbError(withCode(code)), code).toBe('transient')
    expect(classifyDbError(new Error('Connection terminated unexpectedly'))).toBe('transient')
    expect(classifyDbError(new Error('timeout exceeded when trying to connect'))).toBe('transient')
    expect(classifyDbError(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]))).toBe('transient')
    // No connection at all is never the data's fault, whatever the server answered.
    expect(classifyDbError(new DbConnectError(withCode('55000', 'database "x" is not currently accepting connections')))).toBe('transient')
  })

  it('treats data, constraint and syntax errors, and plain exceptions, as data errors', () => {
    for (const code of ['22021', '22P02', '22008', '23505', '23502', '42P01', '42703']) expect(classifyDbError(withCode(code)), code).toBe('data')
    expect(classifyDbError(new RangeError('Invalid time value'))).toBe('data')
    expect(classifyDbError('boom')).toBe('data')
  })
})
