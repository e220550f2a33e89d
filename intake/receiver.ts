// The receiver contract: what every way in does, whatever its transport. One receiver per way
// in, one file each — intake/http/{device-telemetry,onenet,ctwing}.ts, intake/chirpstack.ts,
// intake/amqp.ts; MQTT on our own topics goes through the broker (broker/broker.ts) or the
// standalone subscriber (ingest/standalone.ts) straight to the sink's `handle` (the model is
// ChirpStack's src/integration/mod.rs: one trait, one file per integration). A receiver:
//
// 1. authenticates the sender and identifies the device: its own secret (intake/device-login/),
//    a platform's token or signature plus the device registered with its IMEI/DevEUI, or the
//    topic a broker already authorised;
// 2. decodes the payload: the device's profile when it has a decoder, else the telemetry
//    contract (intake/device-payload.ts);
// 3. submits it to the TelemetrySink (intake/telemetry-sink.ts), the one pipeline: checks,
//    group commit, feed, metrics;
// 4. acknowledges the sender (200, PUBACK, AMQP ack) only after that commit; when nothing could
//    be recorded (the sink stopping, the database away) it does not, and the sender resends;
// 5. dead-letters what it rejects (unknown device, bad signature's payload, undecodable frame)
//    through the same sink, so a refusal is a committed record and is acknowledged too.
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
