// What RabbitMQ must hold before a device's PUBACK means anything (issue 17, loss 5), declared
// once by `housing-brain rabbitmq setup` and checked by every AMQP worker at its start.
//
// RabbitMQ's MQTT plugin answers a QoS 1 PUBLISH with PUBACK when its publisher confirm arrives,
// and RabbitMQ confirms a message no queue took as soon as it has routed it nowhere. So the
// telemetry queue must exist, bound, before the first device publishes — not when the first
// worker starts, as it was — and what still routes nowhere (a binding or queue deleted by hand)
// goes to an alternate exchange whose queue the workers dead-letter (`unroutable`).
//
// The alternate exchange is a topic exchange bound for the device topics only: the committed-
// readings bus and anything else a vhost's clients publish on the exchange stay unrouted as before
// instead of becoming dead letters. It is set with a policy (the exchange RabbitMQ's MQTT plugin
// uses is usually the pre-declared amq.topic, whose arguments cannot change, and names under
// `amq.` are reserved, hence `hb.unroutable.<exchange>`): https://www.rabbitmq.com/docs/ae
import { routingKeyOf, topics } from '../core/contract.ts'
import { UsageError } from '../core/errors.ts'
import { RabbitManagement, segment } from '../core/rabbitmq-management.ts'

export interface RabbitTopology {
  vhost: string
  /** The exchange RabbitMQ's MQTT plugin publishes to (RABBITMQ_MQTT_EXCHANGE). */
  exchange: string
  /** The quorum queue the workers consume (INGEST_AMQP_QUEUE). */
  queue: string
  /** The binding keys of the device topics, on both queues. */
  keys: string[]
  /** The alternate exchange; also the name of the policy that sets it on `exchange`. */
  alternateExchange: string
  /** Where the alternate exchange puts device messages no queue took; the workers dead-letter them. */
  unroutableQueue: string
}

export function rabbitTopology(o: { vhost: string; exchange: string; queue: string }): RabbitTopology {
  return {
    ...o,
    keys: [...topics.allTelemetry, topics.allStatus].map(routingKeyOf),
    alternateExchange: `hb.unroutable.${o.exchange}`,
    unroutableQueue: `${o.queue}.unroutable`,
  }
}

/** The command that declares what a worker found missing. */
const SETUP_COMMAND = 'housing-brain rabbitmq setup'

export class RabbitSetupError extends UsageError {
  constructor(
    readonly problems: string[],
    intro: string,
  ) {
    super(`${intro}\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'RabbitSetupError'
  }
}

/** One thing found wrong, with the change that mends it when setup can make it alone. */
interface Finding {
  problem: string
  fix?: { change: string; apply: () => Promise<void> }
}

interface ExchangeInfo {
  type: string
  arguments?: Record<string, unknown>
  /** The policy RabbitMQ applies to it (one per object: the highest priority that matches). */
  policy?: string
}
interface QueueInfo {
  type?: string
  durable: boolean
}
interface PolicyInfo {
  name: string
  pattern: string
  'apply-to': string
  definition: Record<string, unknown>
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Everything missing or wrong, in the order setup must mend it (the policy last: it points at the rest). */
async function inspect(api: RabbitManagement, t: RabbitTopology): Promise<Finding[]> {
  const v = segment(t.vhost)
  const found: Finding[] = []
  const exchange = await exchangeFindings(api, t.vhost, t.exchange, found)
  await queueFindings(api, t, t.queue, t.exchange, found)
  await exchangeFindings(api, t.vhost, t.alternateExchange, found)
  await queueFindings(api, t, t.unroutableQueue, t.alternateExchange, found)

  const definition = { 'alternate-exchange': t.alternateExchange }
  const policy = { pattern: `^${escapeRegex(t.exchange)}$`, 'apply-to': 'exchanges', definition, priority: 0 }
  // The vhost's list, not the policy itself: a `management` user may read the one, not the other.
  const ours = (await api.get<PolicyInfo[]>(`/policies/${v}`))?.find((p) => p.name === t.alternateExchange)
  if (!ours || ours.pattern !== policy.pattern || ours['apply-to'] !== policy['apply-to'] || ours.definition['alternate-exchange'] !== t.alternateExchange) {
    found.push({
      problem: `the policy ${t.alternateExchange} (alternate-exchange ${t.alternateExchange} on ${t.exchange}) is ${ours ? 'different' : 'missing'}`,
      fix: { change: `set the policy ${t.alternateExchange}: unroutable messages of ${t.exchange} go to ${t.alternateExchange}`, apply: () => api.send('PUT', `/policies/${v}/${segment(t.alternateExchange)}`, policy) },
    })
  } else if (exchange) {
    // An exchange argument overrides any policy; and only one policy applies to an object.
    const argument = exchange.arguments?.['alternate-exchange']
    if (argument !== undefined && argument !== t.alternateExchange) {
      found.push({ problem: `the exchange ${t.exchange} was declared with its own alternate-exchange ${JSON.stringify(argument)}, which overrides the policy; declare it without, or bind ${t.unroutableQueue} there` })
    } else if (argument === undefined && exchange.policy !== t.alternateExchange) {
      found.push({
        problem: `the policy ${exchange.policy ?? '(none)'} applies to ${t.exchange} instead of ${t.alternateExchange} (RabbitMQ applies one policy per exchange, the highest priority): add "alternate-exchange": "${t.alternateExchange}" to it, or give ${t.alternateExchange} a higher priority`,
      })
    }
  }
  return found
}

/** An exchange: missing is declared (durable topic); another type cannot be mended in place. */
async function exchangeFindings(api: RabbitManagement, vhost: string, name: string, found: Finding[]): Promise<ExchangeInfo | undefined> {
  const path = `/exchanges/${segment(vhost)}/${segment(name)}`
  const info = await api.get<ExchangeInfo>(path)
  if (!info) {
    found.push({ problem: `the exchange ${name} does not exist`, fix: { change: `declared the durable topic exchange ${name}`, apply: () => api.send('PUT', path, { type: 'topic', durable: true }) } })
  } else if (info.type !== 'topic') {
    found.push({ problem: `the exchange ${name} is a ${info.type} exchange; housing-brain routes by topic: delete it, then run ${SETUP_COMMAND}` })
  }
  return info
}

/** A quorum queue and its bindings from `source` for the device topics. */
async function queueFindings(api: RabbitManagement, t: RabbitTopology, name: string, source: string, found: Finding[]): Promise<void> {
  const v = segment(t.vhost)
  const path = `/queues/${v}/${segment(name)}`
  const info = await api.get<QueueInfo>(path)
  if (!info) {
    // A quorum queue (Raft-replicated, always durable): a confirm, hence the PUBACK, comes once a majority of its members has the message.
    found.push({ problem: `the queue ${name} does not exist`, fix: { change: `declared the quorum queue ${name}`, apply: () => api.send('PUT', path, { durable: true, arguments: { 'x-queue-type': 'quorum' } }) } })
  } else if (info.type !== 'quorum') {
    found.push({ problem: `the queue ${name} is a ${info.type ?? 'classic'} queue, not a quorum queue: let the workers drain it, delete it, then run ${SETUP_COMMAND}` })
    return
  }
  const bindingsPath = `/bindings/${v}/e/${segment(source)}/q/${segment(name)}`
  const bound = new Set(info ? ((await api.get<{ routing_key: string }[]>(bindingsPath)) ?? []).map((b) => b.routing_key) : [])
  for (const key of t.keys.filter((k) => !bound.has(k))) {
    found.push({ problem: `the queue ${name} is not bound to ${source} for ${key}`, fix: { change: `bound ${name} to ${source} for ${key}`, apply: () => api.send('POST', bindingsPath, { routing_key: key }) } })
  }
}

/**
 * Declares whatever is missing, in order, and checks the result; returns the changes made (none
 * when everything was in place: running it again changes nothing). Rejects with the problems it
 * cannot mend alone (a queue of another type, a policy that takes precedence).
 */
export async function setupRabbit(api: RabbitManagement, t: RabbitTopology): Promise<string[]> {
  const found = await inspect(api, t)
  const stuck = found.filter((f) => !f.fix)
  if (stuck.length > 0) throw new RabbitSetupError(stuck.map((f) => f.problem), 'RabbitMQ needs an operator first; nothing was changed:')
  const changes: string[] = []
  for (const f of found) {
    if (!f.fix) continue
    await f.fix.apply()
    changes.push(f.fix.change)
  }
  const left = await inspect(api, t)
  if (left.length > 0) throw new RabbitSetupError(left.map((f) => f.problem), `RabbitMQ is still not set up after ${changes.length} change(s):`)
  return changes
}

/** The check of every worker at start (and of `rabbitmq check`): rejects, naming the setup command, when anything is missing or wrong. */
export async function checkRabbit(api: RabbitManagement, t: RabbitTopology): Promise<void> {
  const found = await inspect(api, t)
  if (found.length === 0) return
  throw new RabbitSetupError(
    found.map((f) => f.problem),
    `RabbitMQ is not set up for the AMQP ingest workers (vhost ${t.vhost}, exchange ${t.exchange}, queue ${t.queue}); run \`${SETUP_COMMAND}\` with the same RABBITMQ_MQTT_VHOST, RABBITMQ_MQTT_EXCHANGE and INGEST_AMQP_QUEUE before starting them:`,
  )
}
