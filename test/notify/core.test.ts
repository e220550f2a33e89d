// The pure parts of the notification core: who is on call when, quiet hours, the SMS form,
// masking, sealing secrets and signing links.
import { mkdtemp, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadSecretKey, seal, unseal } from '../../core/crypto.ts'
import type { Alert } from '../../core/repos/alerts.ts'
import { LinkSigner } from '../../notify/links.ts'
import { DEFAULT_POLICIES, parsePolicy, quietUntil, stepFor } from '../../notify/policy.ts'
import { maskAddress } from '../../notify/mask.ts'
import { render, SMS_MAX } from '../../notify/render.ts'
import { onCallAt } from '../../notify/rota.ts'

const rota = { timezone: 'Asia/Shanghai', startsOn: '2026-03-02', handoverTime: '09:00', members: ['a', 'b', 'c'] }

describe('rota', () => {
  it('hands over weekly at the local time', () => {
    // 09:00 in Shanghai is 01:00 UTC.
    expect(onCallAt(rota, [], new Date('2026-03-02T00:59:59Z'))).toBeUndefined()
    expect(onCallAt(rota, [], new Date('2026-03-02T01:00:00Z'))?.userId).toBe('a')
    expect(onCallAt(rota, [], new Date('2026-03-09T00:59:59Z'))?.userId).toBe('a')
    expect(onCallAt(rota, [], new Date('2026-03-09T01:00:00Z'))).toMatchObject({ userId: 'b', from: new Date('2026-03-09T01:00:00Z'), to: new Date('2026-03-16T01:00:00Z') })
    expect(onCallAt(rota, [], new Date('2026-03-23T01:00:00Z'))?.userId).toBe('a')
  })

  it('follows the local clock across a daylight-saving change', () => {
    const berlin = { ...rota, timezone: 'Europe/Berlin', startsOn: '2026-03-23' }
    // CET (UTC+1) before 29 March, CEST (UTC+2) after: 09:00 local is 08:00 then 07:00 UTC.
    expect(onCallAt(berlin, [], new Date('2026-03-30T06:59:00Z'))?.userId).toBe('a')
    expect(onCallAt(berlin, [], new Date('2026-03-30T07:00:00Z'))?.userId).toBe('b')
  })

  it('the newest override covering the time wins', () => {
    const at = new Date('2026-03-03T00:00:00Z')
    const o = (userId: string, created: number) => ({ userId, startsAt: new Date('2026-03-02T12:00:00Z'), endsAt: new Date('2026-03-03T12:00:00Z'), createdAt: new Date(created) })
    expect(onCallAt(rota, [o('x', 1), o('y', 2)], at)).toMatchObject({ userId: 'y', override: true })
    expect(onCallAt(rota, [o('x', 1)], new Date('2026-03-03T12:00:00Z'))?.userId).toBe('a')
  })
})

describe('policy', () => {
  it('raise, acknowledge deadline and first reminder climb; later reminders repeat the last step', () => {
    expect([stepFor('raised', null, 0, 3), stepFor('escalated', 'acknowledge', 0, 3), stepFor('reminded', null, 1, 3), stepFor('reminded', null, 4, 3)]).toEqual([0, 1, 2, 2])
    expect([stepFor('updated', null, 0, 3), stepFor('escalated', 'resolve', 0, 3), stepFor('acknowledged', null, 0, 3)]).toEqual([undefined, undefined, undefined])
  })

  it('quiet hours across midnight hold until their end; critical cannot have them', () => {
    const minor = DEFAULT_POLICIES.minor
    // 23:30 and 03:00 in Shanghai are held until 07:00 (23:00 UTC); 12:00 is not.
    expect(quietUntil(minor, new Date('2026-03-04T15:30:00Z'))).toEqual(new Date('2026-03-04T23:00:00Z'))
    expect(quietUntil(minor, new Date('2026-03-04T19:00:00Z'))).toEqual(new Date('2026-03-04T23:00:00Z'))
    expect(quietUntil(minor, new Date('2026-03-04T04:00:00Z'))).toBeUndefined()
    expect(quietUntil(DEFAULT_POLICIES.critical, new Date('2026-03-04T15:30:00Z'))).toBeUndefined()
    expect(() => parsePolicy('critical', { steps: [{ rota: 'crew' }], quietHours: { from: '22:00', to: '07:00' } })).toThrow(/never held back/)
  })
})

describe('messages', () => {
  const alert = { id: 7, severity: 'critical', title: '电梯困人（轿厢停在两层之间，乘客被困）', reason: null, ackDeadline: new Date('2026-03-04T02:05:00Z') } as Alert
  const link = 'https://hb.example.cn/n/3x.AbCdEfGhIjKl'

  it('the SMS form fits one segment and keeps the deadline and the link whole', () => {
    for (const place of ['梅陇一村', '上海市闵行区梅陇镇梅陇一村第三小区十二号楼东侧电梯厅']) {
      const zh = render('zh-CN', { alert, place, link, step: 1, timezone: 'Asia/Shanghai' }).short
      expect(zh.length).toBeLessThanOrEqual(SMS_MAX)
      expect(zh).toMatch(/^【紧急】.*10:05前确认 https:\/\/hb\.example\.cn\/n\/3x\.AbCdEfGhIjKl$/)
      const en = render('en', { alert, place, link, step: 2, timezone: 'Asia/Shanghai' })
      expect(en.short.length).toBeLessThanOrEqual(SMS_MAX)
      expect(en.subject).toMatch(/^\[ESCALATED\] \[CRITICAL\]/)
    }
  })

  it("titles a default rule's alert in the recipient's language, an operator's own rule as raised", () => {
    const trapped: Alert = { ...alert, ruleId: 'elevator-entrapment', title: 'Passengers trapped' }
    expect(render('zh-CN', { alert: trapped, place: '梅陇一村', link, step: 1, timezone: 'Asia/Shanghai' }).text).toMatch(/^紧急告警：电梯困人\n/)
    expect(render('en', { alert: trapped, place: 'Meilong 1', link, step: 1, timezone: 'Asia/Shanghai' }).text).toMatch(/^CRITICAL alert: Passengers trapped\n/)
    const own: Alert = { ...alert, ruleId: 'pump-room-door', title: 'Pump room door open' }
    expect(render('zh-CN', { alert: own, place: '梅陇一村', link, step: 1, timezone: 'Asia/Shanghai' }).params.what).toBe('Pump room door open')
  })

  it("states the reason in the recipient's language when the rules engine sent it as data, the stored text otherwise", () => {
    const forecast: Alert = {
      ...alert,
      ruleId: 'fire-tank-reserve-forecast',
      reason: 'water_level_m < 1.5 predicted at 2026-03-04T03:00:00.000Z, in 55 min; trend -0.3 per hour over 10m',
      reasonDetail: { key: 'forecast.predicted', metric: 'water_level_m', op: '<', limit: 1.5, slopePerHour: -0.3, windowMs: 600_000, crossing: '2026-03-04T03:00:00.000Z', leadMs: 55 * 60_000 },
    }
    const text = (locale: 'zh-CN' | 'en', a: Alert) => render(locale, { alert: a, place: '梅陇一村', link, step: 1, timezone: 'Asia/Shanghai' }).text.split('\n')
    // The predicted time on the recipient's clock (11:00 in Shanghai).
    expect(text('zh-CN', forecast)[2]).toBe('原因：预计 3月4日 11:00，约 55 分钟后出现 水位 < 1.5；趋势每小时 -0.3（按 10 分钟数据拟合）')
    expect(text('en', forecast)[2]).toBe(`Reason: ${forecast.reason ?? ''}`)
    // An older rules process or a flow sent only the text: it stands in every language.
    expect(text('zh-CN', { ...forecast, reasonDetail: null })[2]).toBe(`原因：${forecast.reason ?? ''}`)
  })

  it('masks phone numbers, not other addresses', () => {
    expect(maskAddress('13812341234')).toBe('138****1234')
    expect(maskAddress('+86 138 1234 1234')).toBe('138****1234')
    expect(maskAddress('+4915112345678')).toBe('+491****5678')
    expect(maskAddress('ops@example.com')).toBe('ops@example.com')
  })
})

describe('secrets and links', () => {
  it('sealed secrets open only with the key and for the row they were sealed for', () => {
    const key = Buffer.alloc(32, 7)
    const sealed = seal(key, '{"k":"v"}', 'channel-1')
    expect(sealed).not.toContain('"k"')
    expect(unseal(key, sealed, 'channel-1')).toBe('{"k":"v"}')
    expect(() => unseal(key, sealed, 'channel-2')).toThrow()
    expect(() => unseal(Buffer.alloc(32, 8), sealed, 'channel-1')).toThrow()
  })

  it('generates a key file readable by its owner only, and reuses it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hb-key-'))
    const first = await loadSecretKey(undefined, dir)
    expect(first).toHaveLength(32)
    expect((await stat(path.join(dir, 'notify-secret.key'))).mode & 0o777).toBe(0o600)
    expect(await loadSecretKey(undefined, dir)).toEqual(first)
    await expect(loadSecretKey('c2hvcnQ=', dir)).rejects.toThrow(/NOTIFY_SECRET_KEY/)
  })

  it('a link names one delivery and cannot be forged', () => {
    const signer = new LinkSigner(Buffer.alloc(32, 1), 'https://hb.example/')
    const token = signer.token(12345)
    expect(signer.url(12345)).toBe(`https://hb.example/n/${token}`)
    expect(signer.verify(token)).toBe(12345)
    expect(signer.verify(token.replace(/^[0-9a-z]+/, (12346).toString(36)))).toBeUndefined()
    expect(new LinkSigner(Buffer.alloc(32, 2), 'x').verify(token)).toBeUndefined()
  })
})
