// What the alert service notes on its own, read in each console language (issue 21: no English in
// the Chinese console): the service stores `data.says`, and the console renders it with its own
// strings (console/src/i18n/*.ts); data it does not know leaves the stored English note.
import { describe, expect, it } from 'vitest'
import { en } from '../../console/src/i18n/en.ts'
import { zhCN } from '../../console/src/i18n/zh-CN.ts'
import { isSystemNote, systemNoteText, type SystemNote } from '../../shared/system-note.ts'

const NOTES: SystemNote[] = [
  { key: 'escalate.ack', withinMs: 300_000 },
  { key: 'remind.ack', withinMs: 90_000 },
  { key: 'escalate.resolve' },
  { key: 'ack.by', how: 'link' },
  { key: 'ack.by', how: 'claim' },
  { key: 'resolve.auto' },
]

const read = (lang: 'en' | 'zh-CN') => {
  const strings: Record<string, string> = lang === 'en' ? en : zhCN
  return NOTES.map((n) => systemNoteText(n, lang, (key, p) => (strings[key] ?? key).replace('{d}', p?.d ?? '')))
}

describe('system notes in the history', () => {
  it('read in Chinese as an operator would say them', () => {
    expect(read('zh-CN')).toEqual(['超过 5 分钟 未确认', '仍未确认（时限 90 秒）', '未在时限内解决', '通过通知链接确认', '认领，同时确认', '条件已恢复，自动解决'])
  })

  it('read in English as the API stores them', () => {
    expect(read('en')).toEqual(['not acknowledged within 5m', 'still not acknowledged (90s deadline)', 'not resolved by its deadline', 'acknowledged from the notification link', 'acknowledged by taking it on', 'condition cleared (resolved automatically)'])
  })

  it('leave data they do not know to the stored note', () => {
    expect(isSystemNote({ key: 'escalate.someday' })).toBe(false)
    expect(isSystemNote({ key: 'ack.by', how: 'teleporting' })).toBe(false)
    expect(isSystemNote({ key: 'remind.ack' })).toBe(false)
    expect(NOTES.every(isSystemNote)).toBe(true)
  })
})
