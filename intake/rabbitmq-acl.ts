// RabbitMQ's questions (its HTTP auth backend, rabbitmq_auth_backend_http 3.10) answered with the
// Aedes broker's policy (intake/acl.ts), as pure functions: RabbitMQ's MQTT plugin publishes to
// one topic exchange (`mqtt.exchange`, amq.topic) with the MQTT topic as routing key, `/` and `.`
// swapped and `+` written `*` (rabbit_mqtt_util); a subscription is a queue named
// `mqtt-subscription-{clientId}qos{0|1}` bound to that exchange with the filter as binding key,
// which RabbitMQ's topic authorisation checks as a `read` of the binding key.
import { topicOfRoutingKey } from '../core/contract.ts'
import { decideClientId, decidePublish, decideSubscribe } from './acl.ts'
import type { Identity } from './acl.ts'

/** The one vhost and exchange devices use (RabbitMQ's `mqtt.vhost` and `mqtt.exchange`). */
export interface RabbitScope {
  vhost: string
  exchange: string
}

export type Decision = { ok: true } | { ok: false; reason: string }

type Device = Identity & { type: 'device' }

/** The client id of an MQTT subscription queue, or undefined for any other queue name. */
export function subscriptionClientId(queue: string): string | undefined {
  return /^mqtt-subscription-(.+)qos[01]$/.exec(queue)?.[1]
}

export function decideVhost(scope: RabbitScope, vhost: string): Decision {
  return vhost === scope.vhost ? { ok: true } : { ok: false, reason: `devices use the vhost "${scope.vhost}" only` }
}

/**
 * Exchanges and queues: the device exchange to publish to (write) and bind from (read), never
 * to declare or change; the subscription queues of the device's own client ids, which the MQTT
 * plugin declares, binds and consumes. Nothing else.
 */
export function decideResource(
  identity: Device,
  scope: RabbitScope,
  req: { vhost: string; resource: string; name: string; permission: string },
): Decision {
  const vhost = decideVhost(scope, req.vhost)
  if (!vhost.ok) return vhost
  if (req.resource === 'exchange') {
    if (req.name === scope.exchange && (req.permission === 'write' || req.permission === 'read')) return { ok: true }
    return { ok: false, reason: `devices may only publish to and subscribe from the exchange "${scope.exchange}"` }
  }
  if (req.resource === 'queue') {
    const clientId = subscriptionClientId(req.name)
    if (clientId === undefined) return { ok: false, reason: `"${req.name}" is not an MQTT subscription queue` }
    return decideClientId(identity, clientId)
  }
  return { ok: false, reason: `no access to a ${req.resource}` }
}

/**
 * A publication (`write`, the routing key is the topic) or a subscription (`read`, the binding
 * key is the filter) on the device exchange, under the client id the MQTT plugin reports.
 */
export async function decideTopic(
  identity: Device,
  scope: RabbitScope,
  req: { vhost: string; name: string; permission: string; routingKey: string; clientId: string | undefined },
  isChild: (gatewayId: string, deviceId: string) => Promise<boolean>,
): Promise<Decision> {
  const vhost = decideVhost(scope, req.vhost)
  if (!vhost.ok) return vhost
  if (req.name !== scope.exchange) return { ok: false, reason: `devices use the exchange "${scope.exchange}" only` }
  if (req.clientId !== undefined) {
    const client = decideClientId(identity, req.clientId)
    if (!client.ok) return client
  }
  const topic = topicOfRoutingKey(req.routingKey)
  if (req.permission === 'write') {
    const decision = await decidePublish(identity, topic, isChild)
    return decision.ok ? { ok: true } : decision
  }
  if (req.permission === 'read') return decideSubscribe(identity, topic)
  return { ok: false, reason: `no ${req.permission} permission on topics` }
}
