// Reference figures on the same database, for the rows the end-to-end run committed:
// - COPY ceiling: one COPY FROM STDIN into an empty copy of `readings` (same columns and key),
//   the fastest way PostgreSQL takes rows; nothing else happens.
// - statement ceiling: ingest's own `insertReadings` (readings + `latest`) in a loop of
//   transactions of one batch each, as the group-commit writer issues them, minus MQTT and JSON.
// Row generation is kept out of the timed part: the ceilings describe the database.
import type { MetricSpec } from '../core/contract.ts'
import { emptyColumns, insertReadings, type ReadingColumns } from '../core/repos/readings.ts'
import type { BenchDatabase } from './database.ts'
import { CHILD_SHAPE } from './payloads.ts'
import { METRICS } from '../core/contract.ts'

export interface Ceiling {
  rows: number
  seconds: number
  rowsPerS: number
}

/** Keeps the pre-generated COPY input (~60 bytes a row) to a few hundred MB. */
export const MAX_CEILING_ROWS = 3_000_000
/** As many series as the default gateway scenario (20 gateways × 20 children). */
const SERIES_DEVICES = 400

const metricSpecs: { name: string; spec: MetricSpec }[] = CHILD_SHAPE.metrics.map((name) => {
  const specs: Record<string, MetricSpec> = METRICS[CHILD_SHAPE.kind]
  const spec = specs[name]
  if (!spec) throw new Error(`bench: unknown metric ${name}`)
  return { name, spec }
})

function numeric(spec: MetricSpec): number {
  if (spec.boolean) return Math.random() < 0.5 ? 0 : 1
  return Math.round((spec.min + Math.random() * (spec.max - spec.min)) * 100) / 100
}

/**
 * Row i of a gateway-shaped stream: entries of five metrics, spread over SERIES_DEVICES devices,
 * each device's timestamps 1 ms apart, so every (device, metric, ts) is new.
 */
function rowAt(i: number, base: number): { device: number; metric: number; ts: number } {
  const m = metricSpecs.length
  const entry = Math.floor(i / m)
  return { device: entry % SERIES_DEVICES, metric: i % m, ts: base + Math.floor(entry / SERIES_DEVICES) }
}

/** An hour back: inside the retention window and the recent chunk, and clear of the live scenario's timestamps. */
const baseTs = () => Date.now() - 3_600_000

/** COPY text format, in chunks of about 1 MiB. */
function copyChunks(rows: number, prefix: string): Buffer[] {
  const chunks: Buffer[] = []
  const base = baseTs()
  let text = ''
  let lastTs = -1
  let iso = ''
  for (let i = 0; i < rows; i++) {
    const r = rowAt(i, base)
    // One timestamp serves SERIES_DEVICES × 5 rows: format it once.
    if (r.ts !== lastTs) {
      lastTs = r.ts
      iso = new Date(r.ts).toISOString()
    }
    const ms = metricSpecs[r.metric]
    if (!ms) continue
    text += `${prefix}-${r.device}\t${ms.name}\t${iso}\t${numeric(ms.spec)}\n`
    if (text.length >= 1 << 20) {
      chunks.push(Buffer.from(text))
      text = ''
    }
  }
  if (text) chunks.push(Buffer.from(text))
  return chunks
}

function columns(start: number, count: number, base: number, prefix: string): ReadingColumns {
  const cols = emptyColumns()
  for (let i = start; i < start + count; i++) {
    const r = rowAt(i, base)
    const ms = metricSpecs[r.metric]
    if (!ms) continue
    cols.deviceIds.push(`${prefix}-${r.device}`)
    cols.metrics.push(ms.name)
    cols.ts.push(r.ts)
    cols.values.push(numeric(ms.spec))
  }
  return cols
}

export async function copyCeiling(database: BenchDatabase, rows: number): Promise<Ceiling> {
  const { db } = database
  await db.exec('DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (LIKE readings INCLUDING ALL)')
  const chunks = copyChunks(rows, 'bench-copy')
  const started = performance.now()
  const written = await database.copyIn('bench_copy', 'device_id, metric, ts, value', chunks)
  const seconds = (performance.now() - started) / 1000
  await db.exec('DROP TABLE bench_copy')
  return { rows: written, seconds, rowsPerS: written / seconds }
}

export async function statementCeiling(database: BenchDatabase, rows: number, batchRows: number): Promise<Ceiling> {
  const { db } = database
  const base = baseTs()
  let seconds = 0
  let written = 0
  for (let start = 0; start < rows; start += batchRows) {
    // Device ids of their own, so these rows never meet the scenarios' keys.
    const cols = columns(start, Math.min(batchRows, rows - start), base, 'bench-stmt')
    const started = performance.now()
    written += await db.transaction((tx) => insertReadings(tx, cols))
    seconds += (performance.now() - started) / 1000
  }
  return { rows: written, seconds, rowsPerS: written / seconds }
}
