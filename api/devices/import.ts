// Bulk onboarding: a CSV file of devices, checked row by row against itself and the registry,
// with every problem reported (row, column, what to fix), before anything is written.
//
// The file: a header row naming the columns in any order, one device a row (read by
// api/import-csv.ts, as every CSV import).
//
// Bounds: IMPORT_MAX_ROWS devices and IMPORT_MAX_BYTES of text a file. Each new device costs one
// scrypt hash of its secret (core/secrets.ts newSecrets: about 13 ms on two idle cores), and the
// secrets come back in the response: 1,000 devices are about 13 s idle, but on the project's
// two-core machine under a load average of 20–25, 1,000 took 123 s and 2,000 180 s — past the 60 s
// a reverse proxy commonly waits (nginx's proxy_read_timeout). So 1,000 a file, and a client gone
// before the write gets nothing registered (api/routes/device-import.ts) rather than lost secrets.
//
// Each problem is a code and its params (shared/import-text.ts, which the console renders in
// the operator's language) with the English text rendered from them, so there is one copy of it.
import { DEVICE_KINDS, ID_PATTERN, type DeviceKind } from '../../core/contract.ts'
import type { Queryable } from '../../core/db/client.ts'
import { expectedIntervalOf } from '../../core/profiles/schema.ts'
import { devicesAmong, externalIdsTaken, type DevicePlace } from '../../core/repos/devices.ts'
import { listProfiles } from '../../core/repos/profiles.ts'
import { listCommunities } from '../../core/repos/registry.ts'
import { IMPORT_COLUMNS, type Coded, type ImportColumn, type ImportProblemCode } from '../../shared/import-text.ts'
import { readCsvTable, rowProblem, type CsvRow, type RowProblem } from '../import-csv.ts'
import { ELEVATOR_CODE, PLACE_MAX } from '../../shared/place.ts'

export const IMPORT_MAX_ROWS = 1000
export const IMPORT_MAX_BYTES = 1024 * 1024
export { IMPORT_MAX_REPORTED } from '../import-answers.ts'

export { IMPORT_COLUMNS, type ImportColumn }
const REQUIRED: readonly ImportColumn[] = ['id', 'kind', 'community']
/** A device's name, in characters. */
const NAME_MAX = 120

export { rowProblem, type RowProblem }

/** A device as the file describes it, checked and ready to insert. */
export interface ImportedDevice extends DevicePlace {
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

type Say = (row: Row, column: ImportColumn | '', coded: Coded<ImportProblemCode>) => void

type Row = CsvRow<ImportColumn>

const KINDS_TEXT = DEVICE_KINDS.join(', ')

/** The file's rows by column name, or the problems that stop it being read at all. */
export function readCsv(text: string): { rows: Row[]; problems: RowProblem[] } {
  return readCsvTable(text, {
    columns: IMPORT_COLUMNS,
    required: REQUIRED,
    maxRows: IMPORT_MAX_ROWS,
    empty: { code: 'no_devices', params: {} },
    tooMany: (rows, max) => ({ code: 'too_many_rows', params: { rows, max } }),
  })
}

/**
 * Checks every row against the others and the registry: ids new and unique, kind known, community
 * and profile existing (the profile for the row's kind), the gateway a gateway already registered
 * or in this file, DevEUI and IMEI well-formed and naming one device each, coordinates in range,
 * place texts within bounds and an elevator's codes on elevators only.
 */
export async function checkRows(db: Queryable, rows: readonly Row[]): Promise<{ devices: ImportedDevice[]; problems: RowProblem[] }> {
  const problems: RowProblem[] = []
  const say: Say = (row, column, coded) => problems.push(rowProblem(row.line, column, coded))

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
    for (const [column, v] of Object.entries(c)) if (v.includes('\u0000')) say(row, column as ImportColumn, { code: 'nul_character', params: {} })

    const id = c.id ?? ''
    const idFirst = firstRow.get(`id:${id}`)
    if (!id) say(row, 'id', { code: 'id_missing', params: {} })
    else if (!ID_PATTERN.test(id)) say(row, 'id', { code: 'id_invalid', params: { id } })
    else if (idFirst !== undefined) say(row, 'id', { code: 'id_repeated', params: { id, first: idFirst } })
    else if (known.has(id)) say(row, 'id', { code: 'id_registered', params: { id } })
    if (id) firstRow.set(`id:${id}`, idFirst ?? row.line)

    const name = c.name ?? null
    if (name !== null && name.length > NAME_MAX) say(row, 'name', { code: 'name_too_long', params: { length: name.length, max: NAME_MAX } })

    const kind = c.kind as DeviceKind | undefined
    const kindOk = kind !== undefined && (DEVICE_KINDS as readonly string[]).includes(kind)
    if (!c.kind) say(row, 'kind', { code: 'kind_missing', params: { kinds: KINDS_TEXT } })
    else if (!kindOk) say(row, 'kind', { code: 'kind_unknown', params: { kind: c.kind, kinds: KINDS_TEXT } })

    const communityId = c.community ?? ''
    if (!communityId) say(row, 'community', { code: 'community_missing', params: {} })
    else if (!communities.has(communityId)) say(row, 'community', { code: 'community_unknown', params: { community: communityId } })

    const profile = c.profile ? profiles.get(c.profile) : undefined
    if (c.profile && !profile) say(row, 'profile', { code: 'profile_unknown', params: { profile: c.profile } })
    else if (profile && kindOk && profile.kind !== kind) say(row, 'profile', { code: 'profile_kind', params: { profile: profile.id, profileKind: profile.kind, kind } })

    const gatewayId = c.gateway ?? null
    if (gatewayId !== null) {
      const gatewayKind = known.get(gatewayId)
      if (kind === 'gateway') say(row, 'gateway', { code: 'gateway_on_gateway', params: {} })
      else if (gatewayId === id) say(row, 'gateway', { code: 'gateway_self', params: {} })
      else if (fileGateways.has(gatewayId)) {
        // Inserted before the devices behind it, wherever it stands in the file.
      } else if (gatewayKind === undefined) say(row, 'gateway', { code: 'gateway_unknown', params: { gateway: gatewayId } })
      else if (gatewayKind !== 'gateway') say(row, 'gateway', { code: 'gateway_not_gateway', params: { gateway: gatewayId, kind: gatewayKind } })
    }

    const latitude = coordinate(row, 'latitude', 90, say)
    const longitude = coordinate(row, 'longitude', 180, say)
    if ((c.latitude === undefined) !== (c.longitude === undefined)) say(row, c.latitude === undefined ? 'latitude' : 'longitude', { code: 'coordinates_pair', params: {} })

    const where = placeCells(row, kindOk ? kind : undefined, say)

    const devEui = external(row, 'dev_eui', c.dev_eui?.toLowerCase(), /^[0-9a-f]{16}$/, 'devEui', say)
    const imei = external(row, 'imei', c.imei, /^\d{15}$/, 'imei', say)

    if (problems.length === before && kind !== undefined) {
      devices.push({ id, name, kind, communityId, gatewayId, profileId: profile?.id ?? null, devEui, imei, latitude, longitude, ...where, expectedIntervalS: profile ? expectedIntervalOf(profile.definition) : undefined })
    }
  }
  return { devices, problems }

  function external(row: Row, column: 'dev_eui' | 'imei', v: string | undefined, pattern: RegExp, key: 'devEui' | 'imei', sayIt: Say): string | null {
    if (v === undefined) return null
    if (!pattern.test(v)) {
      sayIt(row, column, { code: `${column}_invalid`, params: { value: v } })
      return null
    }
    const first = firstRow.get(`${key}:${v}`)
    if (first !== undefined) sayIt(row, column, { code: `${column}_repeated`, params: { value: v, first } })
    else firstRow.set(`${key}:${v}`, row.line)
    const owner = taken.get(`${key}:${v}`)
    if (owner !== undefined) sayIt(row, column, { code: `${column}_taken`, params: { value: v, device: owner } })
    return v
  }
}

function coordinate(row: Row, column: 'latitude' | 'longitude', limit: number, say: Say): number | null {
  const text = row.cells[column]
  if (text === undefined) return null
  const n = Number(text)
  if (!/^[+-]?\d+(\.\d+)?$/.test(text) || !Number.isFinite(n) || Math.abs(n) > limit) {
    say(row, column, { code: 'coordinate_invalid', params: { column, value: text, limit } })
    return null
  }
  return n
}

/** Where the row's device is: place texts bounded, an elevator's codes well-formed and on an elevator only. */
function placeCells(row: Row, kind: DeviceKind | undefined, say: Say): DevicePlace {
  const c = row.cells
  const text = (column: 'building' | 'unit' | 'floor' | 'location'): string | null => {
    const v = c[column]
    if (v === undefined) return null
    if (v.length > PLACE_MAX[column]) say(row, column, { code: 'place_too_long', params: { length: v.length, max: PLACE_MAX[column] } })
    return v
  }
  const code = (column: 'registration_code' | 'rescue_code', field: keyof typeof ELEVATOR_CODE): string | null => {
    const v = c[column]
    if (v === undefined) return null
    const rule = ELEVATOR_CODE[field]
    if (!rule.pattern.test(v)) say(row, column, { code: 'elevator_code_invalid', params: { value: v, max: rule.max } })
    else if (kind !== undefined && kind !== 'elevator') say(row, column, { code: 'elevator_code_kind', params: { kind } })
    return v
  }
  return {
    building: text('building'),
    unit: text('unit'),
    floor: text('floor'),
    location: text('location'),
    registrationCode: code('registration_code', 'registrationCode'),
    rescueCode: code('rescue_code', 'rescueCode'),
  }
}
