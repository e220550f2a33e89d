// The link a message carries: `<base>/n/<delivery id in base 36>.<12 characters of HMAC>`. It
// names one delivery — one recipient of one page — and nothing else; the signature (HMAC-SHA256
// under a key derived from the notification secret key, 72 bits shown) stops guessing, the row
// says when it expires and whether it was spent. No long-lived token ever travels in a message.
// Opening it (GET) only shows the alert, so chat apps that preview links spend nothing; the
// acknowledgement is a POST from that page, accepted once.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { deriveKey } from '../core/crypto.ts'

const MAC_CHARS = 12

export class LinkSigner {
  private readonly key: Buffer

  constructor(
    secretKey: Buffer,
    private readonly baseUrl: string,
  ) {
    this.key = deriveKey(secretKey, 'housing-brain notification links v1')
  }

  private mac(deliveryId: number): string {
    return createHmac('sha256', this.key).update(`delivery:${deliveryId}`).digest('base64url').slice(0, MAC_CHARS)
  }

  token(deliveryId: number): string {
    return `${deliveryId.toString(36)}.${this.mac(deliveryId)}`
  }

  /** The console on the same base: where a message that is no page (a test message) points. */
  console(): string {
    return `${this.baseUrl.replace(/\/+$/, '')}/console/`
  }

  url(deliveryId: number): string {
    return `${this.baseUrl.replace(/\/+$/, '')}/n/${this.token(deliveryId)}`
  }

  /** The delivery a token names, or undefined when it was not signed here. */
  verify(token: string): number | undefined {
    const m = /^([0-9a-z]{1,12})\.([\w-]{12})$/.exec(token)
    if (!m?.[1] || !m[2]) return undefined
    const id = parseInt(m[1], 36)
    const expected = Buffer.from(this.mac(id))
    const given = Buffer.from(m[2])
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined
  }
}
