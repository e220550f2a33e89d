// Device text made storable: the characters PostgreSQL refuses are escaped, and size is bounded.
import { describe, expect, it } from 'vitest'
import { storableText, withArticle } from '../../shared/text.ts'

describe('storable text', () => {
  it('escapes NUL and lone surrogates, keeps valid pairs', () => {
    expect(storableText('a\u0000b', 100)).toBe('a\\u0000b')
    expect(storableText('x\ud800y\udc00z', 100)).toBe('x\\ud800y\\udc00z')
    expect(storableText('🚀 ok', 100)).toBe('🚀 ok')
  })

  it('bounds the length, never splitting a surrogate pair', () => {
    const cut = storableText('a'.repeat(9) + '🚀'.repeat(10), 11)
    expect(cut.length).toBeLessThanOrEqual(11)
    expect(cut.endsWith('…')).toBe(true)
    expect(cut).not.toMatch(/[\ud800-\udbff]…$/)
    expect(storableText('x'.repeat(1_000_000), 1000).length).toBe(1000)
    expect(storableText('\u0000'.repeat(1000), 50).length).toBeLessThanOrEqual(50)
  })

  it('puts the right article before the kinds the messages name', () => {
    expect(['elevator', 'manhole', 'fire_tank', 'gateway'].map(withArticle)).toEqual(['an elevator', 'a manhole', 'a fire_tank', 'a gateway'])
  })
})
