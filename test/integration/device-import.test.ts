// Bulk onboarding from CSV against PostgreSQL and the real broker: a good file registers every
// device and its secrets log in over MQTT; a file with bad rows reports every problem (row,
// column, code, params, message) and registers nothing; a file refused whole says why by code too; duplicates in the file and against the registry; the
// row bound; a dry run writes nothing; a client that hangs up while the secrets are hashed gets
// nothing registered; a crew member is refused. Plus "try the decoder" on a
// shipped profile's documented payload and on a decoder that throws.
import http from 'node:http'
import { Writable } from 'node:stream'
import { parse } from 'csv-parse/sync'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AlertService, DEFAULT_DEADLINES } from '../../alerts/service.ts'
import { buildApp, type App } from '../../api/app.ts'
import { IMPORT_MAX_ROWS } from '../../api/devices/import.ts'
import { topics } from '../../core/contract.ts'
import { createMetrics } from '../../core/metrics.ts'
import { SHIPPED_PROFILES } from '../../core/profiles/catalogue.ts'
import { getDevice } from '../../core/repos/devices.ts'
import { seedProfiles } from '../../core/repos/profiles.ts'
import { profileSchema } from '../../core/profiles/schema.ts'
import { insertUser, issueToken } from '../../core/repos/tokens.ts'
import { apiFor } from '../helpers/api.ts'
import { loginDevice } from '../helpers/mqtt-login.ts'
import { createTestDatabase, hasPostgres } from '../helpers/services.ts'
import { startStack, type TestStack } from '../helpers/stack.ts'

const pgUp = await hasPostgres()

interface Problem {
  row: number
  column: string
  code: string
  params: Record<string, string | number>
  message: string
}

describe.skipIf(!pgUp)('device import from CSV', () => {
  let tdb: Awaited<ReturnType<typeof createTestDatabase>>
  let stack: TestStack
  let app: App
  let admin: Record<string, string>
  let crew: Record<string, string>

  beforeAll(async () => {
    tdb = await createTestDatabase()
    stack = await startStack(tdb.url)
    await seedProfiles(stack.db, SHIPPED_PROFILES.map((p) => ({ id: p.id, kind: p.kind, definition: profileSchema.parse(p) })))
    const api = await apiFor(stack.db, { timescale: undefined })
    app = api.app
    admin = { authorization: `Bearer ${api.token}` }
    const crewId = await insertUser(stack.db, { name: 'crew-import', role: 'crew', companyId: 'co-test' })
    crew = { authorization: `Bearer ${(await issueToken(stack.db, crewId)).token}` }
  })

  afterAll(async () => {
    await app.close()
    await stack.stop()
    await tdb.drop()
  })

  const send = (csv: string, query = '', headers = admin) => app.inject({ method: 'POST', url: `/api/v1/devices/import${query}`, headers: { ...headers, 'content-type': 'text/csv' }, payload: csv })
  const problemsOf = (body: string) => (JSON.parse(body) as { details: { problems: Problem[] } }).details.problems
  const exists = async (id: string) => (await getDevice(stack.db, id)) !== undefined

  it('registers every device of a good file; the secrets come back once as CSV and log in over MQTT', async () => {
    // Columns in another order than documented; a device before the gateway it reports through.
    const csv = [
      '\uFEFFkind,id,community,name,gateway,profile,dev_eui,imei,latitude,longitude',
      'manhole,mh-imp-1,cm-test,"Cover 1, east gate",gw-imp,milesight-em320-tilt,A84041000181C5E1,,31.1521,121.4042',
      'gateway,gw-imp,cm-test,Imported gateway,,,,,,',
      'fire_tank,ft-imp-1,cm-test,Tank 1,,dragino-ldds75-tank,,,,',
      'elevator,el-imp-1,cm-test,,,,,861234567890123,,',
    ].join('\r\n')
    const res = await send(csv)
    expect(res.statusCode, res.body).toBe(201)
    expect(res.headers['content-type']).toMatch(/^text\/csv/)
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="device-secrets-.*\.csv"$/)
    expect(res.headers['cache-control']).toBe('no-store')
    // UTF-8 with a byte-order mark (Excel on a Chinese Windows), read back as the import reads a file.
    expect(res.body.startsWith('\uFEFFid,secret,mqtt_username,telemetry_topic\r\n')).toBe(true)
    const rows = parse<{ id: string; secret: string; mqtt_username: string; telemetry_topic: string }>(res.body, { columns: true, bom: true })
    expect(rows.map((r) => r.id).sort()).toEqual(['el-imp-1', 'ft-imp-1', 'gw-imp', 'mh-imp-1'])
    expect(rows.find((r) => r.id === 'el-imp-1')?.telemetry_topic).toBe(topics.deviceTelemetry('el-imp-1'))

    // What the file said is what the registry keeps; the profile set the report interval (20 min).
    expect(await getDevice(stack.db, 'mh-imp-1')).toMatchObject({ name: 'Cover 1, east gate', gatewayId: 'gw-imp', profileId: 'milesight-em320-tilt', devEui: 'a84041000181c5e1', latitude: 31.1521, longitude: 121.4042, expectedIntervalS: 1200 })
    expect(await getDevice(stack.db, 'el-imp-1')).toMatchObject({ imei: '861234567890123', profileId: null })

    // Each secret is the device's MQTT password, accepted by the broker; published telemetry is stored.
    for (const id of ['el-imp-1', 'gw-imp']) {
      const client = await loginDevice(stack.url, id, rows.find((r) => r.id === id)?.secret ?? '')
      if (id === 'el-imp-1') await client.publishAsync(topics.deviceTelemetry(id), JSON.stringify({ values: { speed_mps: 1.5 } }), { qos: 1 })
      await client.endAsync()
    }
    await expect(loginDevice(stack.url, 'el-imp-1', 'not-the-secret')).rejects.toThrow()
    // Acknowledged only after the commit, so the reading is there now.
    const stored = await app.inject({ method: 'GET', url: '/api/v1/devices/el-imp-1/readings?metric=speed_mps', headers: admin })
    expect(stored.body).toContain('1.5')
    // Shown once: nothing the API serves afterwards carries it.
    const listed = await app.inject({ method: 'GET', url: '/api/v1/devices/mh-imp-1', headers: admin })
    expect(listed.body).not.toContain(rows.find((r) => r.id === 'mh-imp-1')?.secret)
  })

  it('reports every problem of a file with several bad rows, by row and column, and registers nothing', async () => {
    const csv = [
      'id,name,kind,profile,community,gateway,latitude,longitude,dev_eui,imei',
      'mh-bad-ok,Fine row,manhole,,cm-test,,,,,',
      'mh-bad-2,,lamp,,cm-test,,,,,',
      'el-bad-3,,elevator,milesight-em320-tilt,cm-nowhere,,,,,',
      'mh-bad-4,,manhole,,cm-test,el-1,95,121,XYZ,12345',
      'mh-bad-5,,manhole,,cm-test,gw-none,31.1,,,',
      'bad id!,,manhole,,cm-test,,,,,',
    ].join('\n')
    const res = await send(csv)
    expect(res.statusCode, res.body).toBe(422)
    expect(res.json<{ code: string; message: string }>()).toMatchObject({ code: 'import_rejected' })
    expect(res.json<{ message: string }>().message).toContain('nothing was imported')
    const where = problemsOf(res.body).map((p) => `${p.row}:${p.column}`)
    expect(where).toEqual(['3:kind', '4:community', '4:profile', '5:gateway', '5:latitude', '5:dev_eui', '5:imei', '6:gateway', '6:longitude', '7:id'])
    const messages = problemsOf(res.body).map((p) => p.message)
    expect(messages).toContain('"lamp" is not a kind; one of manhole, fire_tank, elevator, gateway')
    expect(messages).toContain('"milesight-em320-tilt" is a profile for manhole devices, this row is an elevator')
    expect(messages).toContain('"el-1" is not a gateway (it is an elevator device)')
    expect(messages).toContain('no gateway "gw-none" registered or in this file')
    // Each with its code and the values its text interpolates, for a client to say it its own way.
    expect(problemsOf(res.body).map((p) => `${p.row}:${p.code}`)).toEqual([
      '3:kind_unknown', '4:community_unknown', '4:profile_kind', '5:gateway_not_gateway', '5:coordinate_invalid', '5:dev_eui_invalid', '5:imei_invalid', '6:gateway_unknown', '6:coordinates_pair', '7:id_invalid',
    ])
    expect(problemsOf(res.body).find((p) => p.code === 'community_unknown')).toEqual({ row: 4, column: 'community', code: 'community_unknown', params: { community: 'cm-nowhere' }, message: 'no community "cm-nowhere"; create it in the registry first, or fix the id' })
    expect(problemsOf(res.body).find((p) => p.code === 'coordinate_invalid')?.params).toEqual({ column: 'latitude', value: '95', limit: 90 })
    expect(await exists('mh-bad-ok')).toBe(false)
  })

  it('keeps where each device is from the place columns, and reports a bad place per row', async () => {
    const good = [
      'id,kind,community,building,unit,floor,location,registration_code,rescue_code',
      'el-where-1,elevator,cm-test,3,2,B1,东侧客梯,31103101002012060001,SH-0451',
      'mh-where-1,manhole,cm-test,3号楼,,,3号楼东侧消防通道井盖,,',
    ].join('\n')
    const ok = await send(good)
    expect(ok.statusCode, ok.body).toBe(201)
    expect(await getDevice(stack.db, 'el-where-1')).toMatchObject({ building: '3', unit: '2', floor: 'B1', location: '东侧客梯', registrationCode: '31103101002012060001', rescueCode: 'SH-0451' })
    expect(await getDevice(stack.db, 'mh-where-1')).toMatchObject({ building: '3号楼', unit: null, floor: null, location: '3号楼东侧消防通道井盖', registrationCode: null })

    const bad = [
      'id,kind,community,floor,location,registration_code,rescue_code',
      'el-where-2,elevator,cm-test,12,,31103101002012060002,',
      `mh-where-2,manhole,cm-test,${'1'.repeat(21)},,31103101002012060003,`,
      `el-where-3,elevator,cm-test,,${'井'.repeat(201)},3110 3101,`,
    ].join('\n')
    const res = await send(bad)
    expect(res.statusCode, res.body).toBe(422)
    expect(problemsOf(res.body)).toEqual([
      { row: 3, column: 'floor', code: 'place_too_long', params: { length: 21, max: 20 }, message: '21 characters; at most 20, shorten it' },
      { row: 3, column: 'registration_code', code: 'elevator_code_kind', params: { kind: 'manhole' }, message: 'only an elevator has this code; this row is a manhole, leave it empty' },
      { row: 4, column: 'location', code: 'place_too_long', params: { length: 201, max: 200 }, message: '201 characters; at most 200, shorten it' },
      { row: 4, column: 'registration_code', code: 'elevator_code_invalid', params: { value: '3110 3101', max: 40 }, message: '"3110 3101" is not valid; 1–40 letters, digits or hyphens, as on the elevator\'s certificate' },
    ])
    // All or nothing: the good row is not registered either.
    expect(await exists('el-where-2')).toBe(false)
  })

  it('refuses ids, DevEUIs and IMEIs repeated in the file or already registered', async () => {
    const csv = [
      'id,kind,community,dev_eui,imei',
      'mh-dup-1,manhole,cm-test,0011223344556677,',
      'mh-dup-1,manhole,cm-test,,',
      'mh-dup-2,manhole,cm-test,0011223344556677,',
      'mh-1,manhole,cm-test,,',
      'mh-dup-3,manhole,cm-test,a84041000181c5e1,861234567890123',
    ].join('\n')
    const res = await send(csv)
    expect(res.statusCode).toBe(422)
    expect(problemsOf(res.body)).toEqual([
      { row: 3, column: 'id', code: 'id_repeated', params: { id: 'mh-dup-1', first: 2 }, message: '"mh-dup-1" is already on row 2; each device once' },
      { row: 4, column: 'dev_eui', code: 'dev_eui_repeated', params: { value: '0011223344556677', first: 2 }, message: '0011223344556677 is already on row 2; it names one device' },
      { row: 5, column: 'id', code: 'id_registered', params: { id: 'mh-1' }, message: 'a device "mh-1" is already registered; leave it out, or rotate its secret in the registry' },
      { row: 6, column: 'dev_eui', code: 'dev_eui_taken', params: { value: 'a84041000181c5e1', device: 'mh-imp-1' }, message: 'a84041000181c5e1 already names the registered device "mh-imp-1"' },
      { row: 6, column: 'imei', code: 'imei_taken', params: { value: '861234567890123', device: 'el-imp-1' }, message: '861234567890123 already names the registered device "el-imp-1"' },
    ])
    expect(await exists('mh-dup-2')).toBe(false)
  })

  it('refuses a file over the row bound, a wrong header, a wrong type and text that is not UTF-8, saying what to do', async () => {
    const many = ['id,kind,community', ...Array.from({ length: IMPORT_MAX_ROWS + 1 }, (_, i) => `mh-many-${i},manhole,cm-test`)].join('\n')
    const tooMany = await send(many)
    expect(tooMany.statusCode).toBe(422)
    expect(problemsOf(tooMany.body)[0]?.message).toBe(`the file lists ${IMPORT_MAX_ROWS + 1} devices; at most ${IMPORT_MAX_ROWS} go in one import — split it into several files`)
    expect(problemsOf(tooMany.body)[0]).toMatchObject({ code: 'too_many_rows', params: { rows: IMPORT_MAX_ROWS + 1, max: IMPORT_MAX_ROWS } })
    expect(await exists('mh-many-0')).toBe(false)

    const header = await send('id,kind,colour\nmh-x,manhole,red')
    expect(problemsOf(header.body).map((p) => `${p.row}:${p.column}:${p.code}`)).toEqual(['1:colour:unknown_column', '1:community:column_required'])

    const json = await app.inject({ method: 'POST', url: '/api/v1/devices/import', headers: admin, payload: { id: 'x' } })
    expect(json.statusCode).toBe(415)
    expect(json.json<{ code: string; message: string }>()).toMatchObject({ code: 'unsupported_media_type' })
    expect(json.json<{ message: string }>().message).toContain('text/csv')

    // "井盖" in GBK, as Excel in Chinese saves "CSV (Comma delimited)".
    const gbk = Buffer.concat([Buffer.from('id,kind,community,name\nmh-gbk,manhole,cm-test,'), Buffer.from([0xbe, 0xae, 0xb8, 0xc7])])
    const notUtf8 = await app.inject({ method: 'POST', url: '/api/v1/devices/import', headers: { ...admin, 'content-type': 'text/csv' }, payload: gbk })
    expect(notUtf8.statusCode).toBe(400)
    expect(notUtf8.json<{ message: string }>().message).toContain('CSV UTF-8')
    // The catalogue's code, and the import's own reason for a client to word.
    expect(notUtf8.json()).toMatchObject({ code: 'validation_failed', details: { code: 'not_utf8', params: {} } })

    const big = await app.inject({ method: 'POST', url: '/api/v1/devices/import', headers: { ...admin, 'content-type': 'text/csv' }, payload: `id,kind,community\n${'x'.repeat(1_100_000)}` })
    expect(big.statusCode).toBe(413)
    expect(big.json<{ message: string }>().message).toContain('split it into several files')
    expect(big.json()).toMatchObject({ code: 'payload_too_large', details: { code: 'file_too_large', params: { max: '1024 KB', rows: IMPORT_MAX_ROWS } } })
  })

  it('checks a file without writing anything on a dry run', async () => {
    const csv = 'id,kind,community,gateway\ngw-dry,gateway,cm-test,\nmh-dry,manhole,cm-test,gw-dry\n'
    const dry = await send(csv, '?dryRun=true')
    expect(dry.statusCode, dry.body).toBe(200)
    expect(dry.json()).toEqual({ dryRun: true, devices: 2, gateways: 1 })
    expect(await exists('gw-dry')).toBe(false)
    expect(await exists('mh-dry')).toBe(false)
    const bad = await send(`${csv}mh-dry,manhole,cm-test,\n`, '?dryRun=true')
    expect(problemsOf(bad.body)).toEqual([{ row: 4, column: 'id', code: 'id_repeated', params: { id: 'mh-dry', first: 3 }, message: '"mh-dry" is already on row 3; each device once' }])
  })

  it('registers nothing when the client leaves before the devices are written (a proxy gave up)', async () => {
    // An API of its own whose log the test reads: the client hangs up once the route says it is
    // hashing the secrets, and the route must then write nothing.
    const client: { req?: http.ClientRequest } = {}
    let heard: (() => void) | undefined
    const abandoned = new Promise<void>((resolve) => (heard = resolve))
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          const line = chunk.toString()
          if (line.includes('hashing the new secrets')) client.req?.destroy()
          // Either way the route is done: abandoned (right) or imported (wrong, and the checks below say so).
          if (line.includes('device import abandoned') || line.includes('devices imported from CSV')) heard?.()
          done()
        },
      }),
    )
    const own = await buildApp({ db: stack.db, features: { timescale: undefined }, metrics: createMetrics({ defaults: false }), alerts: new AlertService(stack.db, DEFAULT_DEADLINES, log) }, log)
    await own.listen({ port: 0, host: '127.0.0.1' })
    const addr = own.server.address()
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0
    const csv = ['id,kind,community', ...Array.from({ length: 50 }, (_, i) => `mh-gone-${i},manhole,cm-test`)].join('\n')
    const req = http.request({ host: '127.0.0.1', port, path: '/api/v1/devices/import', method: 'POST', headers: { ...admin, 'content-type': 'text/csv' } })
    client.req = req
    req.on('error', () => undefined)
    req.end(csv)
    await abandoned
    expect(await exists('mh-gone-0')).toBe(false)
    expect(await exists('mh-gone-49')).toBe(false)
    await own.close()
  })

  it('is the office’s: a crew member is refused and nothing is registered', async () => {
    const res = await send('id,kind,community\nmh-crew,manhole,cm-test\n', '', crew)
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({ code: 'forbidden' })
    expect(await exists('mh-crew')).toBe(false)
  })

  describe('try the decoder', () => {
    it("gives the readings of the vendor's documented payload through a stored profile", async () => {
      // Milesight's own example: battery 100 %, Z axis at 90° (lying flat) with the threshold flag clear.
      const res = await app.inject({ method: 'POST', url: '/api/v1/profiles/milesight-em320-tilt/decode', headers: admin, payload: { payload: '01 75 64 03 D4 00 00 01 00 50 46', encoding: 'hex', fPort: 85 } })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toEqual({ ok: true, readings: [{ values: { battery_pct: 100, cover_tilt_deg: 0 } }], warnings: [] })
      const base64 = await app.inject({ method: 'POST', url: '/api/v1/profiles/milesight-em320-tilt/decode', headers: admin, payload: { payload: Buffer.from('017564', 'hex').toString('base64'), encoding: 'base64' } })
      expect(base64.json()).toMatchObject({ ok: true, readings: [{ values: { battery_pct: 100 } }] })
    })

    it('says why an unsaved decoder that throws fails, and names a payload that is not hex', async () => {
      const definition = { id: 'thrower', name: 'Throws', kind: 'manhole', decoder: { script: 'function decodeUplink(input) { throw new Error("byte 3 is not a channel") }' } }
      const res = await app.inject({ method: 'POST', url: '/api/v1/profiles/decode', headers: admin, payload: { payload: '0102', encoding: 'hex', definition } })
      expect(res.statusCode, res.body).toBe(200)
      const out = res.json<{ ok: boolean; reason: string }>()
      expect(out.ok).toBe(false)
      expect(out.reason).toContain('byte 3 is not a channel')
      const notHex = await app.inject({ method: 'POST', url: '/api/v1/profiles/decode', headers: admin, payload: { payload: 'zz', encoding: 'hex', definition } })
      expect(notHex.json<{ code: string; message: string }>()).toMatchObject({ code: 'validation_failed' })
      expect(notHex.json<{ message: string }>().message).toContain('body.payload: not hexadecimal')
      const invalid = await app.inject({ method: 'POST', url: '/api/v1/profiles/decode', headers: admin, payload: { payload: '{}', encoding: 'json', definition: { ...definition, kind: 'lamp' } } })
      expect(invalid.json<{ code: string; message: string }>()).toMatchObject({ code: 'validation_failed' })
      expect(invalid.json<{ message: string }>().message).toContain('body.definition.kind')
    })

    it('decodes a JSON payload with a declarative profile', async () => {
      const payload = JSON.stringify({ timestamp: 1_780_000_000, status: { running: 1, trapped: 0, speed: 1.2 } })
      const res = await app.inject({ method: 'POST', url: '/api/v1/profiles/elevator-dtu-json/decode', headers: admin, payload: { payload, encoding: 'json' } })
      expect(res.json()).toEqual({ ok: true, readings: [{ ts: 1_780_000_000_000, values: { running: true, trapped: false, speed_mps: 1.2 } }], warnings: [] })
    })
  })
})
