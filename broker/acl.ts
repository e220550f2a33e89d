// Topic policy, as pure functions: who may publish and subscribe where.
// Devices see only their own topics; gateways also publish for their registered children;
// services (rules engine, standalone ingest, Node-RED) read everything and publish nothing.
import { TOPIC_ROOT, parseTopic } from '../core/contract.ts'
import type { DeviceKind } from '../core/contract.ts'

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
  if (identity.type === 'service') return { ok: false, reason: 'services may not publish device data' }
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
  const prefixes = [`${TOPIC_ROOT}/devices/${identity.deviceId}/`]
  if (identity.kind === 'gateway') prefixes.push(`${TOPIC_ROOT}/gateways/${identity.deviceId}/`)
  if (prefixes.some((p) => filter.startsWith(p))) return { ok: true }
  return { ok: false, reason: `device "${identity.deviceId}" may subscribe only under ${prefixes.join(' or ')}` }
}
