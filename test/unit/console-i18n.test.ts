// Every visible string of the console exists in both languages, and every metric and unit of the
// catalogue has a name people use, so a new metric or key cannot ship half-translated. Rule titles
// come from the catalogue's own text (shared/catalogue-text.ts, tested in test/rules/catalogue.test.ts).
import { describe, expect, it } from 'vitest'
import { AUDIT_ACTIONS } from '../../shared/audit-actions.ts'
import { CHANNEL_KINDS } from '../../notify/channel.ts'
import { en } from '../../console/src/i18n/en.ts'
import { zhCN } from '../../console/src/i18n/zh-CN.ts'
import { METRICS, type MetricSpec } from '../../shared/metric-catalogue.ts'
import { ruleText, type TextLang } from '../../shared/catalogue-text.ts'
import { DEFAULT_RULES } from '../../rules/catalogue.ts'

const tables = { en: en as Record<string, string>, 'zh-CN': zhCN as Record<string, string> }
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

describe('console languages', () => {
  it('have the same keys, none empty except units without a symbol', () => {
    expect(Object.keys(tables['zh-CN']).sort()).toEqual(Object.keys(tables.en).sort())
    for (const [lang, table] of Object.entries(tables)) {
      const empty = Object.entries(table).filter(([k, v]) => v.trim() === '' && !k.startsWith('unit.')).map(([k]) => k)
      expect(empty, `${lang}: empty strings`).toEqual([])
    }
  })

  it('name every action of the audit log', () => {
    for (const [lang, table] of Object.entries(tables)) {
      expect(Object.values(AUDIT_ACTIONS).filter((a) => !Object.hasOwn(table, `audit.action.${a}`)), `${lang}: missing`).toEqual([])
    }
  })

  it('name every notification channel kind, for the deliveries in an alert\'s history', () => {
    for (const [lang, table] of Object.entries(tables)) {
      expect(CHANNEL_KINDS.filter((k) => !Object.hasOwn(table, `channel.${k}`)), `${lang}: missing`).toEqual([])
    }
  })

  it('use the same placeholders in both languages', () => {
    for (const [key, text] of Object.entries(tables.en)) expect(placeholders(tables['zh-CN'][key] ?? ''), key).toEqual(placeholders(text))
  })

  it('name every metric and unit of the catalogue', () => {
    const wanted = new Set<string>()
    for (const specs of Object.values(METRICS)) {
      for (const [metric, spec] of Object.entries<MetricSpec>(specs)) {
        wanted.add(`metric.${metric}`)
        wanted.add(`unit.${spec.unit}`)
      }
    }
    for (const [lang, table] of Object.entries(tables)) {
      expect([...wanted].filter((k) => !Object.hasOwn(table, k)), `${lang}: missing`).toEqual([])
    }
    // As people say them: 井盖倾角 in degrees, 水位 in metres, 困人.
    expect(zhCN['metric.cover_tilt_deg']).toBe('井盖倾角')
    expect(zhCN['unit.deg']).toBe('°')
    expect(zhCN['metric.water_level_m']).toBe('水位')
    expect(zhCN['metric.trapped']).toBe('困人')
  })

  it('title every default rule in each console language from the catalogue text, with no copy of its own', () => {
    for (const lang of Object.keys(tables) as TextLang[]) {
      const untitled = DEFAULT_RULES.filter((r) => !ruleText(r.id, lang)?.title.trim()).map((r) => r.id)
      expect(untitled, `${lang}: rules without a title`).toEqual([])
      expect(Object.keys(tables[lang]).filter((k) => k.startsWith('rule.')), `${lang}: a second copy`).toEqual([])
    }
  })
})
