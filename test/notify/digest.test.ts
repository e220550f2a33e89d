// A group's digest (notify/digest.ts): the count and the title in the recipient's language, the
// places listed (bounded), and an SMS form that fits one segment with the gateway's signature
// however many members there are.
import { describe, expect, it } from 'vitest'
import type { Alert } from '../../core/repos/alerts.ts'
import { DIGEST_LISTED, renderDigest } from '../../notify/digest.ts'
import { segmentMax } from '../../notify/render.ts'

const first = { id: 40, severity: 'major', ruleId: 'manhole-cover-displaced', title: 'Manhole cover displaced', state: 'open' } as Alert
const member = (i: number, state: Alert['state'] = 'open') => ({ alert: { ...first, id: 40 + i, state }, place: `${i}号楼东侧消防通道井盖` })
const LINK = 'https://hb.example/l/abcdefgh'

describe('digest', () => {
  it('names the count, the title and each place with its state, in Chinese and English', () => {
    const members = [member(1, 'acknowledged'), member(2)]
    const zh = renderDigest('zh-CN', { first, members, total: 2, community: '梅陇一村', link: LINK })
    expect(zh.subject).toBe('【重要】梅陇一村 井盖移位：另有 2 条同类告警')
    expect(zh.text).toContain('1. 1号楼东侧消防通道井盖（已确认）')
    expect(zh.text).toContain('2. 2号楼东侧消防通道井盖（待确认）')
    const en = renderDigest('en', { first, members, total: 2, community: 'Meilong No.1', link: LINK })
    expect(en.subject).toBe('[MAJOR] Meilong No.1: 2 more "Manhole cover displaced" alerts')
    expect(en.text).toContain('2. 2号楼东侧消防通道井盖 (open)')
  })

  it('lists at most DIGEST_LISTED places and counts the rest', () => {
    const members = Array.from({ length: 30 }, (_, i) => member(i + 1))
    const zh = renderDigest('zh-CN', { first, members, total: 30, community: '梅陇一村', link: LINK })
    expect(zh.text.split('\n').filter((l) => /^\d+\. /.test(l))).toHaveLength(DIGEST_LISTED)
    expect(zh.text).toContain(`……另 ${30 - DIGEST_LISTED} 条`)
  })

  it('keeps the SMS to one segment, the count and the link whole', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const signature = '【智慧住房】'
      const m = renderDigest(locale, { first, members: Array.from({ length: 12 }, (_, i) => member(i + 1)), total: 12, community: '梅陇一村', link: LINK, signature })
      expect(m.short.length).toBeLessThanOrEqual(segmentMax(signature + m.short) - signature.length)
      expect(m.short).toContain(LINK)
      expect(m.short).toContain('12')
    }
  })
})
