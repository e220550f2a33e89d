// The members of a JSON object as sent (core/json-members.ts): what a receiver verifies a
// signature over and refuses when repeated (issue 18), and the bounded parse of a push body.
import { describe, expect, it } from 'vitest'
import { duplicateNames, parseJsonObject, topLevelMembers } from '../../core/json-members.ts'

describe('topLevelMembers', () => {
  it('gives every member with its exact text, nested braces, commas, quotes and escapes in strings included', () => {
    const text = '{"nonce":"a,}b", "msg" : [{"v":"x\\"}"},{"n":1.50}] ,"m\\u0073g":{"a":{"msg":1}},"e":""}'
    expect(topLevelMembers(text)).toEqual([
      { name: 'nonce', raw: '"a,}b"' },
      { name: 'msg', raw: '[{"v":"x\\"}"},{"n":1.50}]' },
      { name: 'msg', raw: '{"a":{"msg":1}}' },
      { name: 'e', raw: '""' },
    ])
  })

  it('finds a repeated name, however it is escaped; nested ones do not count', () => {
    expect(duplicateNames(topLevelMembers('{"msg":1,"m\\u0073g":2,"nonce":"n"}'))).toEqual(['msg'])
    expect(duplicateNames(topLevelMembers('{"msg":{"msg":1,"msg":2},"nonce":"n"}'))).toEqual([])
    expect(topLevelMembers('{}')).toEqual([])
  })
})

describe('parseJsonObject', () => {
  const what = 'a push'
  it.each([
    ['', 'body: empty; expected a push'],
    ['null', 'body: null; expected a push'],
    ['[1]', 'body: an array; expected a push'],
    ['7', 'body: a number; expected a push'],
    ['"x"', 'body: a string; expected a push'],
    ['{', 'body: not JSON; expected a push'],
    [`${'['.repeat(10_000)}${']'.repeat(10_000)}`, 'body: nested deeper than 32 levels; expected a push'],
  ])('refuses %s with what was expected', (body, message) => {
    expect(parseJsonObject(Buffer.from(body), what)).toEqual({ ok: false, message })
  })

  it('takes an object', () => {
    expect(parseJsonObject(Buffer.from('{"a":1}'), what)).toEqual({ ok: true, text: '{"a":1}', value: { a: 1 } })
  })
})
