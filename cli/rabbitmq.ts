// `housing-brain rabbitmq setup|check`: the RabbitMQ side of the broker tier, through the
// management API (RABBITMQ_MANAGEMENT_URL, a user with the `policymaker` tag and configure
// permission on the vhost for setup; `management` suffices for check). Run setup once before
// devices connect, and again after any change of RABBITMQ_MQTT_EXCHANGE or INGEST_AMQP_QUEUE;
// it changes only what is missing, so a second run changes nothing and says so.
import { ConfigError, type Config } from '../core/config.ts'
import { UsageError } from '../core/errors.ts'
import { RabbitManagement } from '../core/rabbitmq-management.ts'
import { checkRabbit, rabbitTopology, setupRabbit } from '../ingest/rabbitmq-setup.ts'
import type { CommandContext } from './context.ts'

const USAGE = `housing-brain rabbitmq setup    declare the telemetry queue, its bindings, the alternate exchange, its queue and policy (idempotent)
housing-brain rabbitmq check    exit 1 naming what is missing (what every AMQP ingest worker checks at start)`

/** The management API and the names of the queues, from the configuration; the API is required. */
export function rabbitSettings(cfg: Pick<Config, 'rabbitmq'>, what: string) {
  const url = cfg.rabbitmq.managementUrl
  if (url === undefined) throw new ConfigError([`RABBITMQ_MANAGEMENT_URL: required by ${what} (RabbitMQ's management API, e.g. http://user:pass@rabbit:15672)`])
  return { api: new RabbitManagement(url), topology: rabbitTopology({ vhost: cfg.rabbitmq.vhost, exchange: cfg.rabbitmq.exchange, queue: cfg.rabbitmq.queue }) }
}

export async function rabbitmqCommand(ctx: CommandContext): Promise<void> {
  const [action, ...rest] = ctx.args
  if ((action !== 'setup' && action !== 'check') || rest.length > 0) throw new UsageError(`usage:\n${USAGE}`)
  const { api, topology: t } = rabbitSettings(ctx.cfg, `housing-brain rabbitmq ${action}`)
  const names = `queue ${t.queue} and ${t.unroutableQueue}, alternate exchange and policy ${t.alternateExchange} on ${t.exchange}, vhost ${t.vhost}`
  if (action === 'check') {
    await checkRabbit(api, t)
    console.log(`RabbitMQ is set up: ${names}`)
    return
  }
  const changes = await setupRabbit(api, t)
  if (changes.length === 0) {
    console.log(`RabbitMQ was set up already; nothing changed (${names})`)
    return
  }
  for (const c of changes) console.log(c)
  console.log(`RabbitMQ is set up: ${changes.length} change(s) (${names})`)
}
