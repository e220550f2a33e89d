// The printed result: settings first (figures mean nothing without them), then throughput and
// latency against the targets, then where the CPU and memory went.
import type { Ceiling } from './ceilings.ts'
import type { ScenarioResult } from './scenario.ts'

export interface IngestBenchReport {
  settings: Record<string, string | number>
  scenarios: ScenarioResult[]
  copy: Ceiling | undefined
  statement: (Ceiling & { batchRows: number }) | undefined
  notes: string[]
}

/** The acceptance targets (2 cores, load generator on the same machine). */
export const TARGETS = {
  devices: { readingsPerS: 50_000 },
  gateways: { readingsPerS: 100_000 },
  p99Ms: 250,
} as const

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

export function meetsTarget(s: ScenarioResult): boolean {
  return s.readingsPerS >= TARGETS[s.name].readingsPerS && s.p99Ms <= TARGETS.p99Ms && s.errors === 0
}

export function formatReport(r: IngestBenchReport): string {
  const out: string[] = ['housing-brain ingest benchmark', '']
  const keyWidth = Math.max(...Object.keys(r.settings).map((k) => k.length))
  for (const [k, v] of Object.entries(r.settings)) out.push(`  ${k.padEnd(keyWidth)}  ${v}`)
  out.push('')

  const copy = r.copy?.rowsPerS
  const rows = r.scenarios.map((s) => {
    const t = TARGETS[s.name]
    return [
      s.label ?? s.name,
      int(s.readingsPerS),
      int(s.messagesPerS),
      ms(s.p50Ms),
      ms(s.p99Ms),
      ms(s.maxMs),
      copy ? (s.readingsPerS / copy).toFixed(2) : '–',
      `≥ ${int(t.readingsPerS)}/s, p99 ≤ ${TARGETS.p99Ms} ms: ${meetsTarget(s) ? 'met' : 'NOT met'}`,
    ]
  })
  if (r.copy) rows.push(['COPY ceiling', int(r.copy.rowsPerS), '', '', '', '', '1.00', `${int(r.copy.rows)} rows in ${r.copy.seconds.toFixed(2)} s`])
  if (r.statement) {
    rows.push([
      'insertReadings ceiling',
      int(r.statement.rowsPerS),
      '',
      '',
      '',
      '',
      copy ? (r.statement.rowsPerS / copy).toFixed(2) : '–',
      `${int(r.statement.rows)} rows, ${int(r.statement.batchRows)}-row transactions, ${r.statement.seconds.toFixed(2)} s`,
    ])
  }
  out.push(table(['', 'readings/s', 'msgs/s', 'p50 ms', 'p99 ms', 'max ms', '÷ COPY', 'target / detail'], rows))
  out.push('')
  out.push(
    table(
      ['', 'committed', 'batch rows', 'commit ms', 'CPU broker', 'CPU loadgen', 'CPU postgres', 'CPU other', 'RSS broker', 'RSS loadgen', 'errors'],
      r.scenarios.map((s) => [
        s.label ?? s.name,
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
  )
  out.push(
    '',
    'readings/s: committed readings during the measured interval ÷ its length; p50/p99: publish → PUBACK of messages',
    'published in it. CPU in % of one core over the interval; "other" is the rest of the machine (other processes,',
    'and PostgreSQL itself when its processes are not visible from here); a large "other" means a disturbed run.',
    'RSS: peak resident set of the broker process (since start) and of the largest load generator.',
  )
  for (const s of r.scenarios) {
    if (s.firstError) out.push(`${s.label ?? s.name}: first error: ${s.firstError}`)
    if (s.cpu.other > DISTURBED_PCT) {
      out.push(`${s.label ?? s.name}: other processes used ${Math.round(s.cpu.other)} % of a core during the measured interval: a disturbed run, figures too low`)
    }
  }
  for (const n of r.notes) out.push(`note: ${n}`)
  return out.join('\n')
}
