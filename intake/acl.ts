// Topic and client-id policy, as pure functions: who may connect under which client id, and
// publish, subscribe and receive where. Devices see only their own topics; gateways also publish
// for their registered children; services (standalone ingest, Node-RED) read everything and
// publish nothing (what commits reaches the rules engine through the feed, core/feed.ts).
// In the intake wing, below the services, because both broker fronts ask it: Aedes
// (broker/broker.ts) and RabbitMQ through its HTTP auth backend (intake/http/rabbitmq-auth.ts).
import { TOPIC_ROOT, parseTopic } from '../core/contract.ts'
import type { DeviceKind } from '../core/contract.ts'
import type { Db } from '../core/db/client.ts'
import { UsageError } from '../core/errors.ts'
import { resolveToken } from '../core/repos/tokens.ts'

export type Identity =
  | { type: 'device'; deviceId: string; kind: DeviceKind }
  | { type: 'service'; name: string }

export type PublishDecision =
  | { ok: true; topic: 'telemetry' | 'status' | 'gateway-telemetry'; deviceId: string }
  | { ok: false; reason: string }

/**
 * Whether `identity` may publish to `topic`. For a gateway publishing a child's status, `isChild`
 * is asked (the registry knows the children).
 */
export async function decidePublish(
  identity: Identity,
  topic: string,
  isChild: (gatewayId: string, deviceId: string) => Promise<boolean>,
): Promise<PublishDecision> {
  if (identity.type === 'service') {
    return { ok: false, reason: 'services may not publish device data' }
  }
  const parsed = parseTopic(topic)
  if (parsed === undefined) return { ok: false, reason: `topic "${topic}" is not part of the contract` }
  const self = identity.deviceId
  switch (parsed.type) {
    case 'gateway-telemetry':
      if (identity.kind === 'gateway' && parsed.gatewayId === self) return { ok: true, topic: 'gateway-telemetry', deviceId: self }
      return { ok: false, reason: `only gateway "${parsed.gatewayId}" may publish to its topic` }
    case 'device-telemetry':
    case 'device-status': {
      const leaf = parsed.type === 'device-telemetry' ? 'telemetry' : 'status'
      if (parsed.deviceId === self) return { ok: true, topic: leaf, deviceId: self }
      if (identity.kind === 'gateway' && (await isChild(self, parsed.deviceId))) {
        return { ok: true, topic: leaf, deviceId: parsed.deviceId }
      }
      return { ok: false, reason: `device "${self}" may not publish for "${parsed.deviceId}"` }
    }
  }
}

/**
 * Marks a service's client id. Device ids match ID_PATTERN, which has no `@`, so no device's
 * client id (`{deviceId}` or `{deviceId}/…`) can ever fall in a service's namespace, whatever
 * names devices and users are given.
 */
export const SERVICE_CLIENT_PREFIX = 'svc@'

/** The client id a service user's program uses: `svc@{userName}`, or `svc@{userName}/{role}`. */
export function serviceClientId(userName: string, role?: string): string {
  return `${SERVICE_CLIENT_PREFIX}${userName}${role === undefined ? '' : `/${role}`}`
}

/**
 * Whether `identity` may connect under `clientId`. MQTT lets a new connection take over any
 * session with the same client id (MQTT 3.1.1 §3.1.4, [MQTT-3.1.4-2]): the old connection is
 * closed, its Last Will fires and its persistent session (with queued messages) is resumed. So a
 * client id is tied to one identity: a device's is its id or starts with `{deviceId}/`, a
 * service's is `svc@{userName}` or starts with `svc@{userName}/`.
 */
export function decideClientId(
  identity: { type: 'device'; deviceId: string } | { type: 'service'; name: string },
  clientId: string,
): { ok: true } | { ok: false; reason: string } {
  const base = identity.type === 'device' ? identity.deviceId : serviceClientId(identity.name)
  if (clientId === base || clientId.startsWith(`${base}/`)) return { ok: true }
  return { ok: false, reason: `client id must be "${base}" or start with "${base}/"` }
}

/** Topic prefixes a device may subscribe under and receive from. */
function devicePrefixes(identity: Identity & { type: 'device' }): string[] {
  const prefixes = [`${TOPIC_ROOT}/devices/${identity.deviceId}/`]
  if (identity.kind === 'gateway') prefixes.push(`${TOPIC_ROOT}/gateways/${identity.deviceId}/`)
  return prefixes
}

/** Telemetry is a measurement at one moment: nothing of it may be kept and replayed as new. */
export function isTelemetryTopic(topic: string): boolean {
  const type = parseTopic(topic)?.type
  return type === 'device-telemetry' || type === 'gateway-telemetry'
}

/**
 * Whether a message on `topic` may be delivered to `identity`, checked for every delivery
 * (live, queued in a persistent session, retained), so a subscription that was stored under
 * other rules never widens what a client receives. Retained telemetry is never delivered.
 */
export function decideForward(identity: Identity, topic: string, retain: boolean): boolean {
  if (retain && isTelemetryTopic(topic)) return false
  if (identity.type === 'service') return topic.startsWith(`${TOPIC_ROOT}/`)
  return devicePrefixes(identity).some((p) => topic.startsWith(p))
}

/**
 * Whether `identity` may subscribe to `filter`. A device may subscribe only to filters under its
 * own topic prefix with no wildcard above its id, so no filter of a device can match another
 * device's data.
 */
export function decideSubscribe(identity: Identity, filter: string): { ok: true } | { ok: false; reason: string } {
  if (identity.type === 'service') {
    // Shared subscriptions ($share/{group}/{filter}, MQTT 5 §4.8.2) carry the real filter after the group.
    const real = filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter
    if (real === `${TOPIC_ROOT}/#` || real.startsWith(`${TOPIC_ROOT}/`)) return { ok: true }
    return { ok: false, reason: `services subscribe under ${TOPIC_ROOT}/` }
  }
  const prefixes = devicePrefixes(identity)
  if (prefixes.some((p) => filter.startsWith(p))) return { ok: true }
  return { ok: false, reason: `device "${identity.deviceId}" may subscribe only under ${prefixes.join(' or ')}` }
}

/**
 * The MQTT client id of a program that logs in with an API token: the configured one, else
 * `svc@{userName}/{role}` from the token's user, the only form the broker accepts for it.
 */
export async function serviceMqttClientId(db: Db, token: string, role: string, configured: string | undefined): Promise<string> {
  if (configured !== undefined) return configured
  const principal = await resolveToken(db, token)
  if (!principal) throw new UsageError('the API token for MQTT is unknown, revoked or expired')
  return serviceClientId(principal.name, role)
}
