// The entry-point-neutral ingest (intake/telemetry-sink.ts): a submission from an HTTP entry point
// goes through the same checks, dead letters, group commit and metrics as an MQTT message, and
// settles only after its rows are committed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'
import { startStack, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

describe.skipIf(!pgUp)('telemetry submitted by an entry point other than MQTT', () => {
  let stack: TestStack
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>

  beforeAll(async () => {
    tdb = await createTestDatabase()
    stack = await startStack(tdb.url, { INGEST_BATCH_MAX_WAIT: '2ms' })
  })

  afterAll(async () => {
    await stack.stop()
    await tdb.drop()
  })

  const readings = (deviceId: string) => stack.db.query<{ metric: string; value: number }>('SELECT metric, value FROM readings WHERE device_id = $1 ORDER BY metric', [deviceId])
  const letters = (deviceId: string) =>
    stack.db.query<{ topic: string; client_id: string | null; reason_code: string; reason: string }>('SELECT topic, client_id, reason_code, reason FROM dead_letters WHERE device_id = $1 ORDER BY id', [deviceId])

  it('stores the contract sent as bytes and has it committed when the promise settles', async () => {
    const payload = Buffer.from(JSON.stringify([{ ts: Date.now() - 1000, values: { water_level_m: 2.5 } }, { values: { battery_pct: 80 } }]))
    const result = await stack.unit.ingest.pipeline.submit({ deviceId: 'ft-1', source: 'http/devices/ft-1', body: { kind: 'raw', payload } })
    expect(result).toEqual({ stored: 2, rejected: 0, rejections: [] })
    expect(await readings('ft-1')).toEqual([
      { metric: 'battery_pct', value: 80 },
      { metric: 'water_level_m', value: 2.5 },
    ])
  })

  it('checks decoded entries against the catalogue and dead-letters what fails, under the entry point as topic', async () => {
    const result = await stack.unit.ingest.pipeline.submit({
      deviceId: 'mh-1',
      source: 'http/devices/mh-1',
      clientId: 'onenet',
      body: { kind: 'entries', json: { values: { cover_tilt_deg: 3, no_such_metric: 1 } } },
    })
    expect(result.stored).toBe(1)
    expect(result.rejections.map((r) => r.reasonCode)).toEqual(['unknown_metric'])
    expect(await letters('mh-1')).toEqual([{ topic: 'http/devices/mh-1', client_id: 'onenet', reason_code: 'unknown_metric', reason: expect.stringContaining('no_such_metric') as string }])
  })

  it('records a rejection found by the entry point (a decoder failing) as one dead letter and counts it', async () => {
    const before = (await stack.metrics.rejected.get()).values.find((v) => v.labels.reason === 'decoder_failed')?.value ?? 0
    const result = await stack.unit.ingest.pipeline.submit({
      deviceId: 'el-1',
      source: 'http/devices/el-1',
      body: { kind: 'rejected', code: 'decoder_failed', detail: 'ReferenceError: process is not defined', excerpt: 'AQID' },
    })
    expect(result).toMatchObject({ stored: 0, rejected: 1 })
    expect(result.rejections[0]?.reason).toContain('process is not defined')
    expect((await letters('el-1')).map((l) => l.reason_code)).toEqual(['decoder_failed'])
    const after = (await stack.metrics.rejected.get()).values.find((v) => v.labels.reason === 'decoder_failed')?.value ?? 0
    expect(after - before).toBe(1)
  })

  it('refuses a device that is not registered, like the MQTT path does', async () => {
    const result = await stack.unit.ingest.pipeline.submit({ deviceId: 'nobody', source: 'http/devices/nobody', body: { kind: 'raw', payload: Buffer.from('{"values":{"battery_pct":1}}') } })
    expect(result.rejections.map((r) => r.reasonCode)).toEqual(['unknown_device'])
  })
})
