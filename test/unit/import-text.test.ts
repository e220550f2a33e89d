// The text of a CSV import's problems (shared/import-text.ts): every code reads whole in each
// console language, the English is the text the API has always sent (clients match on it), and a
// code or params the console does not know fall back to the server's message.
import { describe, expect, it } from 'vitest'
import { IMPORT_PROBLEM_TEXT, IMPORT_REFUSAL_TEXT, importMessage, importText } from '../../shared/import-text.ts'
import { readCsv } from '../../api/devices/import.ts'
import { TEXT_LANGS } from '../../shared/catalogue-text.ts'

const ALL = { ...IMPORT_PROBLEM_TEXT, ...IMPORT_REFUSAL_TEXT }
const CJK = /[\u4e00-\u9fff]/

describe('import problem text', () => {
  it('renders every code in every language with nothing left unfilled', () => {
    expect(Object.keys(ALL).length).toBeGreaterThanOrEqual(30)
    for (const [code, { params }] of Object.entries(ALL)) {
      // Each param a value of its own, so a text that drops one shows below.
      const given = Object.fromEntries((params as readonly string[]).map((k, i) => [k, i % 2 ? 40 + i : `v-${k}`]))
      const texts = TEXT_LANGS.map((lang) => importText(lang, code, given))
      for (const [i, text] of texts.entries()) {
        const where = `${code} ${TEXT_LANGS[i] ?? ''}`
        expect(text, where).toBeTypeOf('string')
        expect(text, where).not.toMatch(/\{\w*\}|undefined|NaN|\[object/)
        // Every value the code carries appears in the text of each language (but csv-parse's
        // error code, which only chooses the Chinese explanation).
        for (const [k, v] of Object.entries(given)) if (!(code === 'csv_invalid' && k === 'reason')) expect(text, `${where}: ${k}`).toContain(String(v))
      }
      expect(texts[1], `${code}: not Chinese`).toMatch(CJK)
      expect(texts[0], `${code}: not English`).not.toMatch(CJK)
    }
  })

  it('says in English exactly what the API said before codes', () => {
    expect(importMessage('en', { code: 'community_unknown', params: { community: 'cm-nowhere' } })).toBe('no community "cm-nowhere"; create it in the registry first, or fix the id')
    expect(importMessage('en', { code: 'coordinate_invalid', params: { column: 'latitude', value: '95', limit: 90 } })).toBe('"95" is not a latitude in degrees from -90 to 90 (decimal, like 31.1520)')
    expect(importMessage('en', { code: 'id_invalid', params: { id: 'bad id!' } })).toBe('"bad id!" is not a valid id: 1–64 characters of A–Z, a–z, 0–9, _ . : - (not starting with a symbol)')
    expect(importMessage('en', { code: 'imei_taken', params: { value: '861234567890123', device: 'el-imp-1' } })).toBe('861234567890123 already names the registered device "el-imp-1"')
    expect(importMessage('en', { code: 'not_utf8', params: {} })).toBe('The file is not UTF-8 text. In Excel choose Save As → "CSV UTF-8 (Comma delimited)"; other programs: save as CSV with the UTF-8 encoding')
    // As the reader makes them: the code, its params and the English together.
    expect(readCsv('id,kind,colour\nmh-x,manhole,red').problems).toEqual([
      { row: 1, column: 'colour', code: 'unknown_column', params: { column: 'colour', columns: 'id, name, kind, profile, community, gateway, latitude, longitude, dev_eui, imei, building, unit, floor, location, registration_code, rescue_code' }, message: 'unknown column "colour"; the columns are id, name, kind, profile, community, gateway, latitude, longitude, dev_eui, imei, building, unit, floor, location, registration_code, rescue_code' },
      { row: 1, column: 'community', code: 'column_required', params: { column: 'community', required: 'id, kind, community' }, message: 'the header has no "community" column; id, kind, community are required' },
    ])
  })

  it('reads as a clerk would say it in Chinese, column names as the CSV spells them', () => {
    expect(importText('zh-CN', 'community_unknown', { community: 'cm-nowhere' })).toBe('小区 "cm-nowhere" 不存在：请先在登记管理中创建，或改正编号')
    expect(importText('zh-CN', 'coordinates_pair', {})).toBe('latitude 和 longitude 要么都填，要么都不填')
    expect(importText('zh-CN', 'coordinate_invalid', { column: 'longitude', value: '190', limit: 180 })).toContain('不是有效的经度')
    // A parser mistake csv-parse names by code is explained; another keeps the parser's words.
    const quote = readCsv('id,kind,community\nmh-1,manhole,"cm-a\n').problems[0]
    expect(quote).toMatchObject({ row: 2, code: 'csv_invalid', params: { reason: 'CSV_QUOTE_NOT_CLOSED' } })
    expect(importText('zh-CN', quote?.code, quote?.params)).toBe('文件不是有效的 CSV：有一个英文双引号没有配对闭合')
    expect(importText('zh-CN', 'csv_invalid', { reason: 'CSV_SOMETHING_NEW', detail: 'Something new' })).toBe('文件不是有效的 CSV：Something new')
  })

  it('gives nothing for a code it does not know or params missing one the text needs, so the message shows', () => {
    expect(importText('zh-CN', 'invented_by_a_newer_server', {})).toBeUndefined()
    expect(importText('zh-CN', 'toString', {})).toBeUndefined()
    expect(importText('zh-CN', 'community_unknown', {})).toBeUndefined()
    expect(importText('zh-CN', 'community_unknown', { community: { id: 'x' } })).toBeUndefined()
    expect(importText('en', 'too_many_rows', { rows: 1001, max: 1000 })).toBe('the file lists 1001 devices; at most 1000 go in one import — split it into several files')
  })
})
