// The printed result: settings first (figures mean nothing without them), then throughput and
// latency against the issue's targets, then where the CPU and memory went.
import type { Ceiling } from './ceilings.ts'
import type { DatabaseKind } from './database.ts'
import type { ScenarioName } from './protocol.ts'
import type { ScenarioResult } from './scenario.ts'

/** Every scenario and the ceilings on one database. */
export interface DatabaseRun {
  database: DatabaseKind
  engine: string
  where: string
  serverSettings: string
  scenarios: ScenarioResult[]
  copy?: Ceiling | undefined
  statement?: (Ceiling & { batchRows: number }) | undefined
}

export interface IngestBenchReport {
  settings: Record<string, string | number>
  runs: DatabaseRun[]
  notes: string[]
}

export interface Target {
  readingsPerS: number
  p99Ms: number
  /** GET /health p99 under the load, where the issue sets one. */
  healthP99Ms?: number
}

/** The issue's acceptance targets (2 cores, load generator on the same machine); gateways on an embedded database have none. */
export function targetOf(database: DatabaseKind, scenario: ScenarioName): Target | undefined {
  // Issue 10/11: the PostgreSQL path.
  if (database === 'postgres') return scenario === 'devices' ? { readingsPerS: 50_000, p99Ms: 250 } : { readingsPerS: 100_000, p99Ms: 250 }
  // Issue 11: the embedded default keeps up, and the API stays responsive meanwhile.
  return scenario === 'devices' ? { readingsPerS: 10_000, p99Ms: 250, healthP99Ms: 50 } : undefined
}

/** CPU taken by unrelated processes during a measurement above which its figures are not trustworthy. */
const DISTURBED_PCT = 25

export const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')
export const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(1) : Math.round(n).toString()) : '–')
const pct = (n: number) => `${Math.round(n)} %`

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  // First column left-aligned (labels), the rest right-aligned (numbers).
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

export function meetsTarget(s: ScenarioResult, t: Target): boolean {
  const healthy = t.healthP99Ms === undefined || (s.health !== undefined && s.health.p99Ms <= t.healthP99Ms && s.health.failures === 0)
  return s.readingsPerS >= t.readingsPerS && s.p99Ms <= t.p99Ms && s.errors === 0 && healthy
}

function targetText(database: DatabaseKind, s: ScenarioResult): string {
  const t = targetOf(database, s.name)
  if (!t) return ''
  const health = t.healthP99Ms === undefined ? '' : `, /health p99 ≤ ${t.healthP99Ms} ms`
  return `≥ ${int(t.readingsPerS)}/s, p99 ≤ ${t.p99Ms} ms${health}: ${meetsTarget(s, t) ? 'met' : 'NOT met'}`
}

export function formatReport(r: IngestBenchReport): string {
  const out: string[] = ['housing-brain ingest benchmark', '']
  const settings: [string, string | number][] = [...Object.entries(r.settings), ...r.runs.flatMap((run): [string, string][] => [[run.database, `${run.engine}; ${run.where}; ${run.serverSettings}`]])]
  const keyWidth = Math.max(...settings.map(([k]) => k.length))
  for (const [k, v] of settings) out.push(`  ${k.padEnd(keyWidth)}  ${v}`)
  out.push('')

  const rows: string[][] = []
  for (const run of r.runs) {
    const copy = run.copy?.rowsPerS
    for (const s of run.scenarios) {
      const health = s.health ? `${ms(s.health.p99Ms)}${s.health.failures > 0 ? ` (${s.health.failures} failed)` : ''}` : '–'
      rows.push([`${run.database} ${s.label ?? s.name}`, int(s.readingsPerS), int(s.messagesPerS), ms(s.p50Ms), ms(s.p99Ms), ms(s.maxMs), health, copy ? (s.readingsPerS / copy).toFixed(2) : '–', targetText(run.database, s)])
    }
    if (run.copy) rows.push([`${run.database} COPY ceiling`, int(run.copy.rowsPerS), '', '', '', '', '', '1.00', `${int(run.copy.rows)} rows in ${run.copy.seconds.toFixed(2)} s`])
    if (run.statement) {
      const st = run.statement
      rows.push([`${run.database} insertReadings ceiling`, int(st.rowsPerS), '', '', '', '', '', copy ? (st.rowsPerS / copy).toFixed(2) : '–', `${int(st.rows)} rows, ${int(st.batchRows)}-row transactions, ${st.seconds.toFixed(2)} s`])
    }
  }
  out.push(table(['', 'readings/s', 'msgs/s', 'p50 ms', 'p99 ms', 'max ms', 'health p99', '÷ COPY', 'target / detail'], rows))
  out.push('')
  out.push(
    table(
      ['', 'committed', 'batch rows', 'commit ms', 'CPU broker', 'CPU loadgen', 'CPU postgres', 'CPU other', 'RSS broker', 'RSS loadgen', 'errors'],
      r.runs.flatMap((run) =>
        run.scenarios.map((s) => [
          `${run.database} ${s.label ?? s.name}`,
          int(s.committed),
          int(s.avgBatchRows),
          ms(s.avgCommitMs),
          pct(s.cpu.broker),
          pct(s.cpu.generators),
          s.cpu.postgres === undefined ? '–' : pct(s.cpu.postgres),
          pct(s.cpu.other),
          `${int(s.brokerMaxRssMiB)} MiB`,
          `${int(s.generatorMaxRssMiB)} MiB`,
          s.errors + s.unacked > 0 ? `${s.errors} (+${s.unacked} unacked)` : '0',
        ]),
      ),
    ),
  )
  out.push(
    '',
    'readings/s: committed readings during the measured interval ÷ its length; p50/p99: publish → PUBACK of messages',
    'published in it; health p99: GET /health of the API running in the broker\'s process, asked every 20 ms meanwhile.',
    'CPU in % of one core over the interval; "other" is the rest of the machine (other processes, and PostgreSQL',
    'itself when its processes are not visible from here; PGlite counts as the broker); a large "other" means a disturbed run.',
    'RSS: peak resident set of the broker process (PGlite included) during each database\'s run, and of the largest load generator.',
  )
  for (const run of r.runs) {
    for (const s of run.scenarios) {
      if (s.firstError) out.push(`${run.database} ${s.label ?? s.name}: first error: ${s.firstError}`)
      if (s.cpu.other > DISTURBED_PCT) {
        out.push(`${run.database} ${s.label ?? s.name}: other processes used ${Math.round(s.cpu.other)} % of a core during the measured interval: a disturbed run, figures too low`)
      }
    }
  }
  for (const n of r.notes) out.push(`note: ${n}`)
  return out.join('\n')
}
