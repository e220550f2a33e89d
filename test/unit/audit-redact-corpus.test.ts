// The audit log's redaction against a corpus (issue 18, item 7): many shapes of request body and
// query a person may send — channel settings, webhook headers, URLs with signed queries, header
// lists as objects, pairs and lines — each with secrets in it. Nothing secret comes out, and the
// harmless fields beside them stay as they were (api/audit/redact.ts documents the lists).
import { describe, expect, it } from 'vitest'
import { auditBody, auditQuery, REDACTED } from '../../api/audit/redact.ts'

/** Every secret in the corpus contains this marker, so "nothing secret out" is one search. */
const S = 'SECRETx'
const s = (n: number) => `${S}${n}`

const corpus: { name: string; body: unknown; kept: string[] }[] = [
  {
    name: 'keys naming a secret, in any case and spelling',
    body: {
      pwd: s(1), Passwd: s(2), passphrase: s(3), credentials: { user: s(4), pass: s(5) }, auth: s(6), signature: s(7), sig: s(8),
      api_key: s(9), apiKey: s(10), 'X-Api-Key': s(11), privateKey: s(12), client_secret: s(13), refreshToken: s(14), cookie: s(15),
      sign: s(16), otp: s(17), access_token: s(18), Authorization: s(19), tokenHash: s(20), 'x-auth-token': s(21),
      name: 'WeCom bot', title: 'Lift stuck', author: 'li', authorName: 'Li Na', signal: -71, passengers: 3,
    },
    kept: ['WeCom bot', 'Lift stuck', '"author":"li"', 'Li Na', '"signal":-71', '"passengers":3'],
  },
  {
    name: 'headers as an object, any case',
    body: { settings: { url: 'https://sms.example/send', headers: { 'X-Auth': s(30), Cookie: `sid=${s(31)}`, 'content-type': 'application/json', 'X-Request-Source': 'hb' } } },
    kept: ['https://sms.example/send', 'application/json', '"X-Request-Source":"hb"'],
  },
  {
    name: 'headers as name/value entries and as pairs',
    body: {
      headers: [
        { name: 'Set-Cookie', value: `a=${s(32)}` },
        { key: 'X-Authorization', value: s(33) },
        { name: 'Accept', value: 'text/plain' },
      ],
      pairs: [['X-Auth-Key', s(34)], ['Proxy-Authorization', `Basic ${s(35)}`], ['User-Agent', 'hb/1']],
    },
    kept: ['text/plain', '"Accept"', 'hb/1', '"User-Agent"'],
  },
  {
    name: 'header lines and bearer tokens inside text',
    body: { raw: `POST /x HTTP/1.1\nAuthorization: Bearer ${s(36)}\nCookie: sid=${s(37)}\nX-Auth: ${s(38)}\nHost: hooks.example`, note: `called with Bearer ${s(39)} then stopped` },
    kept: ['Host: hooks.example', 'POST /x HTTP/1.1', 'then stopped'],
  },
  {
    name: 'URL query secrets, userinfo, fragments, hook paths, and URLs inside text',
    body: {
      a: `https://h.example/p?pwd=${s(40)}&sig=${s(41)}&page=2`,
      b: `https://oapi.dingtalk.com/robot/send?access_token=${s(42)}&timestamp=1700000000&sign=${s(43)}`,
      c: `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${s(44)}`,
      d: `https://user:${s(45)}@db.example:5432/x`,
      e: `https://app.example/cb#access_token=${s(46)}&state=ok`,
      f: `https://open.feishu.cn/open-apis/bot/v2/hook/${s(47)}`,
      g: `see https://s3.example/b/o.jpg?X-Amz-Signature=${s(48)}&X-Amz-Date=20260304 for the photo`,
      h: `/ingest/v1/onenet?token=${s(49)}&msg=1`,
      i: `amqp://guest:${s(50)}@mq.example:5672/`,
    },
    kept: ['page=2', 'timestamp=1700000000', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send', 'db.example:5432', 'state=ok', 'https://open.feishu.cn/open-apis/bot/v2/hook/', 'X-Amz-Date=20260304', 'for the photo', 'msg=1', 'mq.example:5672'],
  },
  {
    name: 'secrets deep in arrays and objects, and whole values of secret keys',
    body: { steps: [{ rota: 'crew', channel: { secrets: { appKey: s(51), nested: { x: s(52) } } } }], webpush: { endpoint: 'https://push.example/e', keys: { p256dh: s(53), auth: s(54) } } },
    kept: ['"rota":"crew"', 'https://push.example/e'],
  },
]

describe('audit redaction corpus', () => {
  for (const c of corpus) {
    it(c.name, () => {
      const stored = JSON.stringify(auditBody(c.body, 'application/json'))
      expect(stored).not.toContain(S)
      expect(stored).toContain(REDACTED.slice(1, -1))
      for (const k of c.kept) expect(stored).toContain(k)
    })
  }

  it('the query of a request: the same names', () => {
    const q = auditQuery({ pwd: s(60), sig: s(61), signature: s(62), company: 'co-a', url: `https://h.example/?token=${s(63)}` })
    expect(JSON.stringify(q)).not.toContain(S)
    expect(q).toMatchObject({ pwd: REDACTED, sig: REDACTED, signature: REDACTED, company: 'co-a' })
  })
})
