// Web Push (RFC 8030) to the crew PWA, with VAPID (RFC 8292) and the aes128gcm payload encryption
// of RFC 8291. The `web-push` library builds the request (the ES256 JWT and the encrypted body);
// this adapter sends it with fetch, so it shares the timeout and failure mapping of every other
// HTTP channel. The push service's answer means (RFC 8030 §5, and what FCM, Mozilla autopush and
// Apple document): 201 accepted; 404/410 the subscription is gone — permanent, the contact point
// should be dropped; 429 and 5xx later (Retry-After); 400/401/403/413 a request that stays wrong.
import webpush from 'web-push'
import { z } from 'zod'
import type { ChannelAdapter, DeliveryOutcome, Message, Recipient } from '../channel.ts'
import { delivered, failed, httpFailure, isReply, parseJson, request, type ChannelDeps } from './http.ts'

export const webpushSettingsSchema = z.object({
  /** The VAPID public key (base64url, uncompressed P-256 point), also given to the PWA. */
  vapidPublicKey: z.string().min(1),
  /** A `mailto:` or `https:` contact the push service can reach the operator at (RFC 8292 §2.1). */
  subject: z.string().regex(/^(mailto:|https:)/, 'mailto: or https: URL'),
  /** How long the push service keeps an undelivered message (the phone is off), seconds. */
  ttlSeconds: z.number().int().min(0).max(2_419_200).default(86_400),
  /** Allow plain-http endpoints (a local push service in tests); real push services are https. */
  allowHttp: z.boolean().default(false),
})
export const webpushSecretsSchema = z.object({
  vapidPrivateKey: z.string().min(1),
})

/** A PushSubscription as the browser's `toJSON()` gives it: what a `webpush` contact point holds. */
export const subscriptionSchema = z.object({
  endpoint: z.url(),
  keys: z.object({ p256dh: z.string().min(1), auth: z.string().min(1) }),
})

/** What the service worker receives and shows. */
export function webpushPayload(message: Message): string {
  return JSON.stringify({ title: message.subject, body: message.text, url: message.link, alertId: message.alertId, severity: message.severity, locale: message.locale })
}

export function createWebpushChannel(settings: z.infer<typeof webpushSettingsSchema>, secrets: z.infer<typeof webpushSecretsSchema>, deps: ChannelDeps): ChannelAdapter {
  return {
    kind: 'webpush',
    limits: {},
    async send(message: Message, to: Recipient): Promise<DeliveryOutcome> {
      const parsed = subscriptionSchema.safeParse(to.address === undefined ? undefined : parseJson(to.address))
      if (!parsed.success) return failed(false, 'no subscription', 'Web Push recipient has no valid subscription')
      const subscription = parsed.data
      const protocol = new URL(subscription.endpoint).protocol
      if (protocol !== 'https:' && !(settings.allowHttp && protocol === 'http:')) return failed(false, 'insecure endpoint', 'Web Push endpoint is not https')
      let details: ReturnType<typeof webpush.generateRequestDetails>
      try {
        details = webpush.generateRequestDetails(subscription, webpushPayload(message), {
          vapidDetails: { subject: settings.subject, publicKey: settings.vapidPublicKey, privateKey: secrets.vapidPrivateKey },
          TTL: settings.ttlSeconds,
          // RFC 8030 §5.3: a critical alert may wake a phone in power saving; others wait.
          urgency: message.severity === 'critical' ? 'high' : 'normal',
        })
      } catch {
        // A malformed key in the subscription or in our VAPID settings; the library's message may
        // quote the key, so it is not kept.
        return failed(false, 'bad keys', 'Web Push could not encrypt for this subscription (malformed keys)')
      }
      const headers: Record<string, string> = {}
      // The library sets TTL as a number despite its typings.
      for (const [k, v] of Object.entries(details.headers as Record<string, string | number>)) if (k.toLowerCase() !== 'content-length') headers[k] = String(v)
      const host = new URL(subscription.endpoint).host
      const reply = await request(deps, `Web Push service ${host}`, subscription.endpoint, { method: 'POST', headers, body: details.body })
      if (!isReply(reply)) return reply
      if (reply.status >= 200 && reply.status < 300) return delivered(`http ${reply.status}`, `Web Push accepted by ${host}`)
      if (reply.status === 404 || reply.status === 410) return failed(false, `http ${reply.status}`, `Web Push subscription gone (${host})`)
      return httpFailure(reply, `Web Push service ${host}`, deps.now())
    },
  }
}
