// Bulk onboarding: a CSV file of devices, checked row by row against itself and the registry,
// with every problem reported (row, column, what to fix), before anything is written.
//
// The file: UTF-8 (a BOM, as Excel writes one, is fine), a header row naming the columns in any
// order, one device a row. Parsing is csv-parse's (RFC 4180 quoting, CRLF or LF); we only read the
// cells. Row numbers are the file's line numbers, the header being row 1, which is how a
// spreadsheet numbers them too.
//
// Bounds: IMPORT_MAX_ROWS devices and IMPORT_MAX_BYTES of text a file. Each new device costs one
// scrypt hash of its secret (core/secrets.ts newSecrets: about 13 ms on two idle cores), and the
// secrets come back in the response: 1,000 devices are about 13 s idle, but on the project's
// two-core machine under a load average of 20–25, 1,000 took 123 s and 2,000 180 s — past the 60 s
// a reverse proxy commonly waits (nginx's proxy_read_timeout). So 1,000 a file, and a client gone
// before the write gets nothing registered (api/routes/device-import.ts) rather than lost secrets.
import { parse, type CsvError } from 'csv-parse/sync'
import { DEVICE_KINDS, ID_PATTERN, type DeviceKind } from '../../core/contract.ts'
import type { Queryable } from '../../core/db/client.ts'
import { expectedIntervalOf } from '../../core/profiles/schema.ts'
import { devicesAmong, externalIdsTaken } from '../../core/repos/devices.ts'
import { listProfiles } from '../../core/repos/profiles.ts'
import { listCommunities } from '../../core/repos/registry.ts'

export const IMPORT_MAX_ROWS = 1000
export const IMPORT_MAX_BYTES = 1024 * 1024
/** Problems listed in one answer; past it the message says how many more there are. */
export const IMPORT_MAX_REPORTED = 1000

export const IMPORT_COLUMNS = ['id', 'name', 'kind', 'profile', 'community', 'gateway', 'latitude', 'longitude', 'dev_eui', 'imei'] as const
export type ImportColumn = (typeof IMPORT_COLUMNS)[number]
const REQUIRED: readonly ImportColumn[] = ['id', 'kind', 'community']

export interface RowProblem {
  /** Line of the file; the header is row 1. */
  row: number
  /** The column the problem is in, or empty for the whole row. */
  column: string
  message: string
}

/** A device as the file describes it, checked and ready to insert. */
export interface ImportedDevice {
  id: string
  name: string | null
  kind: DeviceKind
  communityId: string
  gatewayId: string | null
  profileId: string | null
  devEui: string | null
  imei: string | null
  latitude: number | null
  longitude: number | null
  expectedIntervalS: number | undefined
}

interface Row {
  line: number
  cells: Partial<Record<ImportColumn, string>>
}

const KINDS_TEXT = DEVICE_KINDS.join(', ')

/** The file's rows by column name, or the problems that stop it being read at all. */
export function readCsv(text: string): { rows: Row[]; problems: RowProblem[] } {
  let records: { record: string[]; info: { lines: number } }[]
  try {
    // With `info`, each record comes with where it ended in the file (the typings miss that shape).
    records = parse(text, { bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true, max_record_size: 64 * 1024 }) as unknown as typeof records
  } catch (err) {
    const e = err as CsvError & { lines?: number }
    return { rows: [], problems: [{ row: e.lines ?? 0, column: '', message: `the file is not valid CSV: ${e.message}` }] }
  }
  const [head, ...body] = records
  if (!head) return { rows: [], problems: [{ row: 1, column: '', message: `the file is empty; the first row must name the columns (${IMPORT_COLUMNS.join(', ')})` }] }
  const problems: RowProblem[] = []
  const names = head.record.map((h) => h.toLowerCase())
  const seen = new Set<string>()
  for (const name of names) {
    if (!(IMPORT_COLUMNS as readonly string[]).includes(name)) problems.push({ row: 1, column: name, message: `unknown column "${name}"; the columns are ${IMPORT_COLUMNS.join(', ')}` })
    else if (seen.has(name)) problems.push({ row: 1, column: name, message: `the column "${name}" is named twice` })
    seen.add(name)
  }
  for (const name of REQUIRED) if (!seen.has(name)) problems.push({ row: 1, column: name, message: `the header has no "${name}" column; ${REQUIRED.join(', ')} are required` })
  if (problems.length > 0) return { rows: [], problems }
  if (body.length === 0) return { rows: [], problems: [{ row: 2, column: '', message: 'the file names the columns but lists no device' }] }
  if (body.length > IMPORT_MAX_ROWS) return { rows: [], problems: [{ row: IMPORT_MAX_ROWS + 2, column: '', message: `the file lists ${body.length} devices; at most ${IMPORT_MAX_ROWS} go in one import — split it into several files` }] }
  const rows = body.map(({ record, info }): Row => {
    const cells: Partial<Record<ImportColumn, string>> = {}
    names.forEach((name, i) => {
      const v = record[i]
      if (v !== undefined && v !== '') cells[name as ImportColumn] = v
    })
    if (record.length > names.length) problems.push({ row: info.lines, column: '', message: `the row has ${record.length} cells, the header ${names.length} (a comma in a name needs the name in double quotes)` })
    return { line: info.lines, cells }
  })
  return { rows, problems }
}

/**
 * Checks every row against the others and the registry: ids new and unique, kind known, community
 * and profile existing (the profile for the row's kind), the gateway a gateway already registered
 * or in this file, DevEUI and IMEI well-formed and naming one device each, coordinates in range.
 */
export async function checkRows(db: Queryable, rows: readonly Row[]): Promise<{ devices: ImportedDevice[]; problems: RowProblem[] }> {
  const problems: RowProblem[] = []
  const say = (row: Row, column: ImportColumn | '', message: string) => problems.push({ row: row.line, column, message })

  const ids = rows.map((r) => r.cells.id ?? '')
  const gatewayRefs = rows.flatMap((r) => (r.cells.gateway ? [r.cells.gateway] : []))
  const known = new Map((await devicesAmong(db, [...new Set([...ids, ...gatewayRefs])])).map((d) => [d.id, d.kind]))
  const communities = new Set((await listCommunities(db, {})).map((c) => c.id))
  const profiles = new Map((await listProfiles(db)).map((p) => [p.id, p]))
  const devEuis = rows.flatMap((r) => (r.cells.dev_eui ? [r.cells.dev_eui.toLowerCase()] : []))
  const imeis = rows.flatMap((r) => (r.cells.imei ? [r.cells.imei] : []))
  const taken = new Map((await externalIdsTaken(db, devEuis, imeis)).map((t) => [`${t.column}:${t.value}`, t.id]))

  /** The first row of the file that carries each id, DevEUI and IMEI. */
  const firstRow = new Map<string, number>()
  const fileGateways = new Set(rows.filter((r) => r.cells.kind === 'gateway' && r.cells.id).map((r) => r.cells.id ?? ''))
  const devices: ImportedDevice[] = []

  for (const row of rows) {
    const c = row.cells
    const before = problems.length
    for (const [column, v] of Object.entries(c)) if (v.includes('\u0000')) say(row, column as ImportColumn, 'contains the NUL character; remove it')

    const id = c.id ?? ''
    if (!id) say(row, 'id', 'missing; every device needs an id')
    else if (!ID_PATTERN.test(id)) say(row, 'id', `"${id}" is not a valid id: 1–64 characters of A–Z, a–z, 0–9, _ . : - (not starting with a symbol)`)
    else if (firstRow.has(`id:${id}`)) say(row, 'id', `"${id}" is already on row ${firstRow.get(`id:${id}`)}; each device once`)
    else if (known.has(id)) say(row, 'id', `a device "${id}" is already registered; leave it out, or rotate its secret in the registry`)
    if (id) firstRow.set(`id:${id}`, firstRow.get(`id:${id}`) ?? row.line)

    const name = c.name ?? null
    if (name !== null && name.length > 120) say(row, 'name', `${name.length} characters; at most 120`)

    const kind = c.kind as DeviceKind | undefined
    const kindOk = kind !== undefined && (DEVICE_KINDS as readonly string[]).includes(kind)
    if (!c.kind) say(row, 'kind', `missing; one of ${KINDS_TEXT}`)
    else if (!kindOk) say(row, 'kind', `"${c.kind}" is not a kind; one of ${KINDS_TEXT}`)

    const communityId = c.community ?? ''
    if (!communityId) say(row, 'community', 'missing; the id of the community the device is in')
    else if (!communities.has(communityId)) say(row, 'community', `no community "${communityId}"; create it in the registry first, or fix the id`)

    const profile = c.profile ? profiles.get(c.profile) : undefined
    if (c.profile && !profile) say(row, 'profile', `no device profile "${c.profile}"; see GET /api/v1/profiles`)
    else if (profile && kindOk && profile.kind !== kind) say(row, 'profile', `"${profile.id}" is a profile for ${profile.kind} devices, this row is a ${kind}`)

    const gatewayId = c.gateway ?? null
    if (gatewayId !== null) {
      if (kind === 'gateway') say(row, 'gateway', 'a gateway reports for itself; leave this empty')
      else if (gatewayId === id) say(row, 'gateway', 'a device cannot be its own gateway')
      else if (fileGateways.has(gatewayId)) {
        // Inserted before the devices behind it, wherever it stands in the file.
      } else if (!known.has(gatewayId)) say(row, 'gateway', `no gateway "${gatewayId}" registered or in this file`)
      else if (known.get(gatewayId) !== 'gateway') say(row, 'gateway', `"${gatewayId}" is not a gateway (it is a ${known.get(gatewayId)} device)`)
    }

    const latitude = coordinate(row, 'latitude', 90, say)
    const longitude = coordinate(row, 'longitude', 180, say)
    if ((c.latitude === undefined) !== (c.longitude === undefined)) say(row, c.latitude === undefined ? 'latitude' : 'longitude', 'give latitude and longitude together, or neither')

    const devEui = external(row, 'dev_eui', c.dev_eui?.toLowerCase(), /^[0-9a-f]{16}$/, 'a DevEUI is 16 hexadecimal digits', 'devEui', say)
    const imei = external(row, 'imei', c.imei, /^\d{15}$/, 'an IMEI is 15 digits', 'imei', say)

    if (problems.length === before && kind !== undefined) {
      devices.push({ id, name, kind, communityId, gatewayId, profileId: profile?.id ?? null, devEui, imei, latitude, longitude, expectedIntervalS: profile ? expectedIntervalOf(profile.definition) : undefined })
    }
  }
  return { devices, problems }

  function external(row: Row, column: 'dev_eui' | 'imei', v: string | undefined, pattern: RegExp, shape: string, key: 'devEui' | 'imei', sayIt: typeof say): string | null {
    if (v === undefined) return null
    if (!pattern.test(v)) {
      sayIt(row, column, `"${v}" is not valid; ${shape}`)
      return null
    }
    const first = firstRow.get(`${key}:${v}`)
    if (first !== undefined) sayIt(row, column, `${v} is already on row ${first}; it names one device`)
    else firstRow.set(`${key}:${v}`, row.line)
    const owner = taken.get(`${key}:${v}`)
    if (owner !== undefined) sayIt(row, column, `${v} already names the registered device "${owner}"`)
    return v
  }
}

function coordinate(row: Row, column: 'latitude' | 'longitude', limit: number, say: (row: Row, column: ImportColumn, message: string) => void): number | null {
  const text = row.cells[column]
  if (text === undefined) return null
  const n = Number(text)
  if (!/^[+-]?\d+(\.\d+)?$/.test(text) || !Number.isFinite(n) || Math.abs(n) > limit) {
    say(row, column, `"${text}" is not a ${column} in degrees from ${-limit} to ${limit} (decimal, like 31.1520)`)
    return null
  }
  return n
}
