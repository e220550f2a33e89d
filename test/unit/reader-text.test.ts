// Chinese throughout (issue 21): what is stored once and read in each reader's language — a
// resident's report title (data, or the English of older rows), the reason an alert stored from its
// rule's description, the demo district's names, the shipped profiles' names.
import { describe, expect, it } from 'vitest'
import { demoLayout } from '../../core/provision.ts'
import { SHIPPED_PROFILES } from '../../core/profiles/catalogue.ts'
import { titleIn, titleText } from '../../shared/alert-title.ts'
import { RULE_TEXT, storedReasonIn } from '../../shared/catalogue-text.ts'
import { nameIn } from '../../shared/demo-names.ts'
import { profileName } from '../../shared/profile-text.ts'

describe('text stored once, read in the reader’s language', () => {
  it("titles a resident's report from its data, an older row from its English, a rule's from the catalogue, others as stored", () => {
    const report = { ruleId: 'resident:hazard:1', source: 'resident', title: titleText({ key: 'resident.report', said: '井盖缺失' }), titleDetail: { key: 'resident.report', said: '井盖缺失' } }
    expect(report.title).toBe('Resident report: 井盖缺失')
    expect(titleIn('zh-CN', report)).toBe('居民报告：井盖缺失')
    expect(titleIn('zh-CN', { ...report, titleDetail: null })).toBe('居民报告：井盖缺失')
    expect(titleIn('en', report)).toBe('Resident report: 井盖缺失')
    expect(titleIn('zh-CN', { ruleId: 'elevator-entrapment', source: 'rules', title: 'Passengers trapped' })).toBe('电梯困人')
    // An operator's rule, and a flow's title that merely looks like a report, stay as raised.
    expect(titleIn('zh-CN', { ruleId: 'pump-door', source: 'rules', title: 'Pump room door open' })).toBe('Pump room door open')
    expect(titleIn('zh-CN', { ruleId: 'flow-1', source: 'node-red', title: 'Resident report: x' })).toBe('Resident report: x')
  })

  it("reads a reason stored from the rule's English description in the reader's language, any other as stored", () => {
    const why = RULE_TEXT['elevator-entrapment']
    expect(storedReasonIn('elevator-entrapment', why.en.why, 'zh-CN')).toBe(why['zh-CN'].why)
    expect(storedReasonIn('elevator-entrapment', 'trapped 1 >= 1', 'zh-CN')).toBe('trapped 1 >= 1')
    expect(storedReasonIn('pump-door', null, 'zh-CN')).toBeNull()
  })

  it('names the demo district in Chinese, and every one of its names in English for the English console', () => {
    const { companies, communities, devices } = demoLayout()
    const names = [...companies, ...communities].map((x) => x.name).concat(devices.map((d) => d.name ?? ''))
    for (const n of names) {
      expect(n, 'stored in Chinese').toMatch(/\p{Script=Han}/u)
      expect(nameIn('en', n), `${n} in English`).not.toMatch(/\p{Script=Han}/u)
      expect(nameIn('zh-CN', n)).toBe(n)
    }
    expect(nameIn('en', '莘庄花园 LoRa 网关')).toBe('Xinzhuang Garden LoRa gateway')
    // An office's own names are data, not text to translate.
    expect(nameIn('en', '田林十二村')).toBe('田林十二村')
  })

  it("names a shipped profile in the reader's language unless the office renamed it", () => {
    for (const p of SHIPPED_PROFILES) {
      expect(profileName(p.id, p.name, 'zh-CN')).toMatch(/\p{Script=Han}/u)
      expect(profileName(p.id, p.name, 'en')).toBe(p.name)
      expect(profileName(p.id, '我们的井盖传感器', 'en')).toBe('我们的井盖传感器')
    }
  })
})
