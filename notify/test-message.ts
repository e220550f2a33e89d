// "Send a test message" of the set-up screen: one message through the channel's own adapter (the
// one the dispatcher builds, through the egress guard), sent now and answered with what the vendor
// said, so a mistyped webhook key or SMTP host is found while setting up, not when an alert pages
// nobody. It is not queued, retried or written to an alert's delivery log; the audit log has it.
import { unseal } from '../core/crypto.ts'
import type { Queryable } from '../core/db/client.ts'
import type { DestinationPolicy } from '../core/egress.ts'
import { AppError } from '../core/errors.ts'
import { channelSecrets, type NotifyChannel } from '../core/repos/notify-setup.ts'
import type { ChannelKind, DeliveryOutcome, Locale, Message } from './channel.ts'
import { ADAPTERS } from './registry.ts'

/** Group-chat bots post to their group: no address. Every other kind needs one. */
const BOTS: readonly string[] = ['wecom', 'dingtalk', 'feishu']

const WORDS: Record<Locale, { subject: string; text: (name: string, by: string) => string; short: string }> = {
  'zh-CN': {
    subject: '测试消息',
    text: (name, by) => `这是通知渠道“${name}”的测试消息，由 ${by} 在设置时发送。收到即说明渠道可用，无需处理。`,
    short: '测试消息：通知渠道可用，无需处理',
  },
  en: {
    subject: 'Test message',
    text: (name, by) => `This is a test message of the notification channel "${name}", sent by ${by} while setting it up. It arrived, so the channel works; nothing to do.`,
    short: 'Test message: the channel works; nothing to do',
  },
}

export interface TestInput {
  /** Where to: an e-mail address, a phone number, a vendor user id, a push subscription; none for a bot. */
  address?: string | undefined
  locale: Locale
  by: string
  /** What the message links to: the console. */
  link: string
}

/** Sends one test message through `channel`; the outcome as the adapter gave it (a failure is not thrown). */
export async function sendTestMessage(db: Queryable, key: Buffer, channel: NotifyChannel, input: TestInput, egress: DestinationPolicy): Promise<DeliveryOutcome> {
  const kind = channel.kind as ChannelKind
  const entry = ADAPTERS[kind]
  if (!BOTS.includes(kind) && !input.address) throw new AppError('validation_failed', `body.address: a ${kind} channel sends to an address; give the one to send the test to`)
  const sealed = await channelSecrets(db, channel.id)
  const secrets: unknown = sealed ? JSON.parse(unseal(key, sealed, channel.id)) : {}
  const adapter = entry.create(channel.settings, secrets, { egress })
  const w = WORDS[input.locale]
  const text = w.text(channel.name, input.by)
  const message: Message = {
    locale: input.locale,
    alertId: 'test',
    severity: 'warning',
    subject: w.subject,
    text,
    short: w.short,
    link: input.link,
    params: { severity: w.subject, place: channel.name, device: '-', what: w.short, deadline: '-', due: '-', link: input.link },
  }
  try {
    return await adapter.send(message, BOTS.includes(kind) ? {} : { address: input.address ?? '' })
  } catch {
    return { ok: false, retryable: true, status: 'adapter error', detail: 'the channel adapter failed' }
  } finally {
    await adapter.close?.().catch(() => undefined)
  }
}
