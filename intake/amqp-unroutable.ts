// The alternate exchange's queue (ingest/rabbitmq-setup.ts) holds device messages RabbitMQ
// acknowledged — the device saw its PUBACK — although no telemetry queue took them (a binding or
// the queue deleted by hand). The workers consume it like the telemetry queue and record each
// message as a dead letter `unroutable` through the pipeline (the same store, counter and group
// commit), acknowledging it after that commit: what RabbitMQ acknowledged is never dropped unseen,
// and a broken setup shows on the dead-letter board instead of passing silently.
import { parseTopic } from '../core/contract.ts'
import type { TelemetrySink } from './telemetry-sink.ts'
import { payloadExcerpt } from '../core/telemetry.ts'

export function deadLetterUnroutable(pipeline: TelemetrySink, alternateExchange: string): TelemetrySink['handle'] {
  return (msg) => {
    const topic = parseTopic(msg.topic)
    // Bound for the device topics only, so this is someone's hand-made binding: a message outside
    // the contract is dead-lettered as such (unknown_topic), as on every way in.
    if (!topic) return pipeline.handle(msg)
    return pipeline.submit({
      deviceId: topic.type === 'gateway-telemetry' ? topic.gatewayId : topic.deviceId,
      source: msg.topic,
      body: {
        kind: 'rejected',
        code: 'unroutable',
        detail: `no queue was bound for it, so it went to the alternate exchange ${alternateExchange}; run housing-brain rabbitmq setup`,
        excerpt: payloadExcerpt(msg.payload),
      },
    })
  }
}
