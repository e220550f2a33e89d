// A device's own credentials (id + secret, as set at registration or rotation), checked the same
// way for every front that takes them: the MQTT broker, the HTTP device API and RabbitMQ's HTTP
// auth backend (through the gate, gate.ts).
import type { DeviceKind } from '../../core/contract.ts'
import type { Queryable } from '../../core/db/client.ts'
import { getCredentials } from '../../core/repos/devices.ts'
import { verifySecret } from '../../core/secrets.ts'

export type DeviceAuthResult = { ok: true; deviceId: string; kind: DeviceKind } | { ok: false; reason: 'unknown' | 'disabled' | 'bad_secret' }

/** A valid scrypt hash of a random string nobody knows. */
const DUMMY_HASH = 'scrypt$16384$8$1$FwtNPe3n-a4JbFrBeuFGBw$XHwzkqjyJW5SUQ8HGFJ6EJw0NDPVXT2-2rd4VLYN1_o'

export async function checkDeviceSecret(db: Queryable, deviceId: string, secret: string): Promise<DeviceAuthResult> {
  const creds = await getCredentials(db, deviceId)
  if (!creds) {
    // Same cost as a real check, so response time does not reveal which device ids exist.
    await verifySecret(secret, DUMMY_HASH)
    return { ok: false, reason: 'unknown' }
  }
  if (!(await verifySecret(secret, creds.secretHash))) return { ok: false, reason: 'bad_secret' }
  if (!creds.enabled) return { ok: false, reason: 'disabled' }
  return { ok: true, deviceId: creds.id, kind: creds.kind }
}
