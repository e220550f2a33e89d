// Where each channel kind connects, and who may change it (issue 18, item 1). Vendor channels go to
// the vendor's documented host unless an admin overrides it (a private deployment, Lark, a regional
// endpoint); the kinds that are configured with their own destination (the generic SMS gateway's
// URL, the SMTP host) name it in one field. Either way the destination must pass the egress guard
// (core/egress.ts) when it is registered, and again on every connection.
import { destinationDenial, type DestinationPolicy } from '../../core/egress.ts'
import { AppError } from '../../core/errors.ts'
import type { ChannelKind } from '../channel.ts'

/** The vendors' documented API hosts, each adapter's default `baseUrl`. */
export const VENDOR_BASE = {
  wecom: 'https://qyapi.weixin.qq.com',
  dingtalk: 'https://oapi.dingtalk.com',
  feishu: 'https://open.feishu.cn',
  sms_aliyun: 'https://dysmsapi.aliyuncs.com',
  sms_tencent: 'https://sms.tencentcloudapi.com',
} as const satisfies Partial<Record<ChannelKind, string>>

const isVendor = (kind: ChannelKind): kind is keyof typeof VENDOR_BASE => kind in VENDOR_BASE

/** The settings field naming where a channel connects, and the host in it; none for Web Push (its endpoints are the contact points'). */
export function channelTarget(kind: ChannelKind, settings: Record<string, unknown>): { field: string; host: string; origin?: string } | undefined {
  if (kind === 'email') return typeof settings.host === 'string' ? { field: 'settings.host', host: settings.host } : undefined
  const field = kind === 'sms_http' ? 'url' : isVendor(kind) ? 'baseUrl' : undefined
  const value = field === undefined ? undefined : settings[field]
  if (field === undefined || typeof value !== 'string' || !URL.canParse(value)) return undefined
  const url = new URL(value)
  return { field: `settings.${field}`, host: url.hostname, origin: url.origin }
}

export interface TargetAccess {
  /** Where connections may go (EGRESS_ALLOW). */
  egress: DestinationPolicy
  /** Whether the one configuring may point a vendor channel at another host (admins only). */
  mayOverrideVendorHost: boolean
}

/**
 * Refuses a channel (its settings already validated, defaults applied) that another host than the
 * vendor's is forced on by someone who may not (403), or whose destination the egress guard
 * refuses, now or after DNS (400 destination_denied), naming the field (under `at`: `body.` when the
 * request carries the settings).
 */
export async function checkChannelTarget(kind: ChannelKind, settings: Record<string, unknown>, access: TargetAccess, at = 'body.'): Promise<void> {
  const target = channelTarget(kind, settings)
  if (target === undefined) return
  // A {{placeholder}} in the host would name the destination only at sending time, past this check.
  if (/[{}]/.test(target.host)) throw new AppError('validation_failed', `${at}${target.field}: the host may not contain a {{placeholder}}; name the gateway's host itself`)
  if (isVendor(kind) && !access.mayOverrideVendorHost && target.origin !== new URL(VENDOR_BASE[kind]).origin) {
    throw new AppError('forbidden', `${at}${target.field}: only an admin may point a ${kind} channel at another host than ${VENDOR_BASE[kind]}; leave it out`)
  }
  const denied = await destinationDenial(target.host, access.egress)
  if (denied !== undefined) {
    throw new AppError('destination_denied', `${at}${target.field}: the address of "${target.host}" is ${denied}; channels may only reach public addresses unless EGRESS_ALLOW allows it`)
  }
}
