// The receiver contract, the model being ChirpStack's src/integration/mod.rs (one trait, one file
// per integration). A receiver — intake/http/{device-telemetry,onenet,ctwing}.ts, chirpstack.ts,
// amqp.ts; MQTT on our own topics reaches the sink's `handle` from broker/broker.ts and
// ingest/standalone.ts — does, whatever its transport:
// 1. authenticate the sender and identify the device (intake/device-login/, a platform's token or
//    signature and the device registered with its IMEI/DevEUI, or the topic the broker authorised);
// 2. decode (the device's profile, else the telemetry contract: intake/device-payload.ts);
// 3. submit to the TelemetrySink (intake/telemetry-sink.ts), the one pipeline;
// 4. acknowledge (200, PUBACK, AMQP ack) only after the commit, and never when nothing was recorded;
// 5. dead-letter what it rejects through the same sink: a refusal is a committed record too.
// A new vendor is one more file here (intake/http/<vendor>.ts for an HTTP push), registered in
// api/app.ts (or, for a broker subscription, cli/stack.ts).
import type { Queryable } from '../core/db/client.ts'
import type { DecoderSandbox } from '../core/decoders/sandbox.ts'
import { DEFAULT_PROFILE_CACHE, ProfileCache } from '../core/profiles/cache.ts'
import type { DeviceRecord } from '../core/repos/devices.ts'
import { TtlCache } from '../core/ttl-cache.ts'
import type { TelemetrySink } from './telemetry-sink.ts'

/** One way in: an arrival (a request, a push, a broker message, an event) to committed telemetry. */
export interface Receiver<Arrival, Answer = unknown> {
  /** Names the way in in logs and dead letters' client id (`chirpstack`, `onenet`, …). */
  readonly name: string
  /**
   * Steps 1–3 and 5 above: resolves once what the arrival carried is committed, stored or
   * dead-lettered, with what the sender is answered; rejects only when nothing was recorded
   * (then the sender must not be acknowledged: step 4).
   */
  receive(arrival: Arrival): Promise<Answer>
}

/** What a receiver is given: the sink, and what decoding needs. */
export interface ReceiverDeps {
  db: Queryable
  sink: TelemetrySink
  sandbox: DecoderSandbox
  /** Decoders by device, invalidated by whoever owns it (intake/device-caches.ts watchDeviceChanges). */
  profiles?: ProfileCache | undefined
  /** Devices by platform id (`imei:…`, `id:…`, `deveui:…`), for platformDevice; dropped whole on any device change. */
  platformDevices?: TtlCache<DeviceRecord> | undefined
}

/** The caches of a receiver, sized as the profile cache (60 s, 50,000 devices). */
export function receiverCaches(): Pick<ReceiverDeps, 'profiles' | 'platformDevices'> {
  return { profiles: new ProfileCache(), platformDevices: new TtlCache<DeviceRecord>(DEFAULT_PROFILE_CACHE) }
}
