// What the audit log keeps of a request (api/audit/redact.ts): secrets out at any depth and in
// URLs, non-JSON bodies summed up, everything bounded and storable.
import { describe, expect, it } from 'vitest'
import { auditBody, auditQuery, MAX_BODY_CHARS, REDACTED, redact } from '../../api/audit/redact.ts'

describe('audit redaction', () => {
  it('replaces the value of every key naming a secret, at any depth, whatever its type', () => {
    const body = {
      name: 'bot',
      secret: 's-1',
      Password: 'p-1',
      settings: { apiKey: 'k-1', list: [{ refresh_token: 't-1', ok: 1 }], tokenHash: 'h-1', Authorization: 'Bearer x' },
      secrets: { key: 'k-2', other: 'k-3' },
      keys: ['k-4'],
    }
    expect(redact(body)).toEqual({
      name: 'bot',
      secret: REDACTED,
      Password: REDACTED,
      settings: { apiKey: REDACTED, list: [{ refresh_token: REDACTED, ok: 1 }], tokenHash: REDACTED, Authorization: REDACTED },
      secrets: REDACTED,
      keys: REDACTED,
    })
    expect(JSON.stringify(redact(body))).not.toMatch(/[skpth]-\d|Bearer x/)
  })

  it('takes the password and secret-named query parameters out of URLs, and leaves other URLs alone', () => {
    expect(redact({ url: 'https://u:pw@h.example/p?key=abc&x=1' })).toEqual({ url: 'https://u:%5Bredacted%5D@h.example/p?key=%5Bredacted%5D&x=1' })
    expect(redact({ url: 'https://h.example/p?x=1' })).toEqual({ url: 'https://h.example/p?x=1' })
    expect(redact({ note: 'not a url: a:b@c' })).toEqual({ note: 'not a url: a:b@c' })
  })

  it('sums up a body that is not JSON as its type and size', () => {
    expect(auditBody('id,kind\nel-1,elevator\n', 'text/csv; charset=utf-8')).toEqual({ contentType: 'text/csv', bytes: 22 })
    expect(auditBody(Buffer.alloc(1234), 'image/png')).toEqual({ contentType: 'image/png', bytes: 1234 })
    expect(auditBody(undefined, undefined)).toBeNull()
  })

  it('cuts a large body to an excerpt of its redacted JSON, marked truncated', () => {
    const big = { secret: 'never-shown', rows: Array.from({ length: 2000 }, (_, i) => ({ id: `dev-${i}` })) }
    const stored = auditBody(big, 'application/json') as { truncated: boolean; chars: number; excerpt: string }
    expect(stored.truncated).toBe(true)
    expect(stored.chars).toBeGreaterThan(MAX_BODY_CHARS)
    expect(stored.excerpt.length).toBeLessThanOrEqual(MAX_BODY_CHARS)
    expect(stored.excerpt.startsWith('{"secret":"[redacted]","rows":[{"id":"dev-0"}')).toBe(true)
  })

  it('bounds nesting and string length, and escapes what PostgreSQL cannot store', () => {
    let deep: unknown = 'bottom'
    for (let i = 0; i < 100_000; i++) deep = { d: deep }
    expect(JSON.stringify(redact(deep))).toContain('[too deep]')
    const stored = redact({ a: 'x'.repeat(5000), b: 'nul\u0000', c: '\ud800' }) as Record<string, string>
    expect(stored.a?.length).toBeLessThanOrEqual(1000)
    expect(stored.b).toBe('nul\\u0000')
    expect(stored.c).toBe('\\ud800')
  })

  it('keeps the query only when there is one', () => {
    expect(auditQuery({})).toBeNull()
    expect(auditQuery({ companyId: 'co-a', token: 't' })).toEqual({ companyId: 'co-a', token: REDACTED })
  })
})
