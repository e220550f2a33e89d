// A broker with its ingest and an API listening on a free port whose HTTP entry points (device
// API, OneNET and CTWing receivers) feed that ingest: for tests through real HTTP requests.
import type { App, AppOptions } from '../../api/app.ts'
import { DEFAULT_SANDBOX_LIMITS, DecoderSandbox, type SandboxLimits } from '../../core/decoders/sandbox.ts'
import type { Queryable } from '../../core/db/client.ts'
import { receiverCaches } from '../../intake/receiver.ts'
import { SHIPPED_PROFILES } from '../../core/profiles/catalogue.ts'
import { profileSchema, type DeviceProfile } from '../../core/profiles/schema.ts'
import { updateDevice } from '../../core/repos/devices.ts'
import { upsertProfile } from '../../core/repos/profiles.ts'
import { apiFor } from './api.ts'
import { createTestDatabase } from './services.ts'
import { startStack, type TestStack } from './stack.ts'

export interface ReceiverStack {
  stack: TestStack
  app: App
  /** An admin's bearer token for the API. */
  token: string
  /** http://127.0.0.1:port */
  base: string
  stop(): Promise<void>
}

export async function startReceivers(opts: AppOptions = {}, limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS): Promise<ReceiverStack> {
  const tdb = await createTestDatabase()
  const stack = await startStack(tdb.url, { INGEST_BATCH_MAX_WAIT: '2ms' })
  const sandbox = new DecoderSandbox(limits)
  await sandbox.start()
  const { app, token } = await apiFor(stack.db, { timescale: undefined }, opts, undefined, undefined, { db: stack.db, sink: stack.unit.ingest.pipeline, sandbox, ...receiverCaches() })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const addr = app.server.address()
  return {
    stack,
    app,
    token,
    base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    async stop() {
      await app.close()
      await sandbox.stop()
      await stack.stop()
      await tdb.drop()
    },
  }
}

/** A device profile: a shipped one (`milesight-em320-tilt`), or a manhole one whose decoder is `script`. */
export function testProfile(id: string, script?: string): DeviceProfile {
  return profileSchema.parse(script === undefined ? SHIPPED_PROFILES.find((p) => p.id === id) : { id, name: id, kind: 'manhole', decoder: { script } })
}

/** Stores the profile and gives it to the devices. */
export async function assignProfile(db: Queryable, profile: DeviceProfile, ...deviceIds: string[]): Promise<void> {
  await upsertProfile(db, { id: profile.id, kind: profile.kind, definition: profile })
  for (const id of deviceIds) await updateDevice(db, id, { profileId: profile.id })
}
