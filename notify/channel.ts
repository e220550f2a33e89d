// The contract between the notification outbox (who is told, when, how often) and the channel
// adapters (how one message reaches one recipient over one vendor's API). An adapter knows its
// vendor's format, signature and documented limits; it never retries, queues or logs a secret —
// the outbox does the retrying and keeps the delivery log, so every channel fails the same way.
import type { Severity } from '../shared/domain.ts'

export const CHANNEL_KINDS = ['email', 'wecom', 'dingtalk', 'feishu', 'sms_aliyun', 'sms_tencent', 'sms_http', 'webpush'] as const
export type ChannelKind = (typeof CHANNEL_KINDS)[number]

export type Locale = 'zh-CN' | 'en'

/** One notification, already rendered in the recipient's language. */
export interface Message {
  locale: Locale
  alertId: string
  severity: Severity
  /** E-mail subject, bot card title, push title. */
  subject: string
  /** Plain text body (e-mail text part, bot markdown/text, push body). */
  text: string
  /** Optional HTML body for e-mail. */
  html?: string
  /**
   * The SMS form: severity, place, what, deadline and link, at most 70 characters so that it fits
   * one segment in Chinese (GSM/UCS-2 segmenting as the Chinese carriers count it).
   */
  short: string
  /** The signed, single-use, expiring link that opens the alert for this recipient. */
  link: string
  /** Template parameters for SMS providers that send only registered templates (Aliyun, Tencent). */
  params: Record<string, string>
}

/** Where one message goes: an e-mail address, a phone number, a bot (no address), a push subscription. */
export interface Recipient {
  /** E-mail address, E.164 phone number, a vendor user id, or a Web Push subscription as JSON. */
  address?: string
  name?: string
}

/** What one attempt came to; the outbox decides from it whether and when to retry. */
export interface DeliveryOutcome {
  ok: boolean
  /** False when retrying cannot help (bad address, refused credentials, 4xx other than 408/429). */
  retryable: boolean
  /** The vendor asked to wait this long (HTTP Retry-After, a documented rate-limit window). */
  retryAfterMs?: number
  /** Short, loggable status: `smtp 250`, `http 429`, `errcode 45009`, `ECONNREFUSED`. No secrets. */
  status: string
  /** A human sentence for the delivery log. */
  detail: string
}

export interface ChannelLimits {
  /** The vendor's documented sending limit for one configured channel (one bot, one account). */
  perMinute?: number
  /** A documented burst limit on top of the minute one (Feishu: 5 a second per bot). */
  perSecond?: number
}

export interface ChannelAdapter {
  readonly kind: ChannelKind
  readonly limits: ChannelLimits
  /** SMS: what the gateway puts before each message (its 【签名】), counted against the segment. */
  readonly smsSignature?: string
  send(message: Message, to: Recipient): Promise<DeliveryOutcome>
  /** Releases pooled connections (SMTP). */
  close?(): Promise<void>
}
