// Configuration: the settings of core/settings.ts read from the environment once at start-up,
// into one object by section (`cfg.ingest`, `cfg.notify`, `cfg.chirpstack`, …) so that each unit
// is handed its own section. This is the only module that reads `process.env` (and `.env`);
// everything else receives a `Config`.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { SECTIONS, type Setting } from './settings.ts'

type Values<S> = { readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never }
type Sections = typeof SECTIONS

export type Config = { readonly [N in keyof Sections]: Values<Sections[N]['settings']> } & {
  /** The variables that were set, as opposed to defaulted (the demo may move a defaulted port). */
  readonly explicit: ReadonlySet<string>
  /** Settings of earlier versions that are set: renamed ones (read under the new name) and removed ones, each with what to do. */
  readonly retired: string[]
  /** Variables with one of this project's prefixes that no setting reads (a typo names its nearest match); warned about at start. */
  readonly unknown: string[]
}

/** Every setting with its section and key, in the reference's order. */
export const SETTINGS: readonly (Setting<unknown> & { section: string; key: string })[] = Object.entries(SECTIONS).flatMap(([section, s]) =>
  Object.entries(s.settings as Record<string, Setting<unknown>>).map(([key, setting]) => ({ ...setting, section, key })),
)

/** Settings that were removed, with what replaced them: a deployment that still sets one is told at start. */
const RETIRED: Record<string, string> = {
  READINGS_BUS_URL: 'the readings bus is gone: every ingest writes the commit-ordered feed in the database, which the rules engine reads (README, "Alerting guarantee"); remove it',
  RULES_CLIENT_ID: 'the rules engine no longer connects to a broker; remove it',
  RULES_RELOAD_EVERY: 'registry changes reach the rules engine through the feed before the next reading; remove it',
}

/**
 * Settings that were renamed: the old name is still read (a number in its unit becomes a
 * duration; a list joins the new one's) and the start says to rename it.
 */
const RENAMED: Record<string, { to: string; unit?: 'ms' | 's' | 'd'; join?: true }> = {
  INGEST_BATCH_MAX_WAIT_MS: { to: 'INGEST_BATCH_MAX_WAIT', unit: 'ms' },
  INGEST_LATEST_FLUSH_MS: { to: 'INGEST_LATEST_FLUSH', unit: 'ms' },
  INGEST_MAX_FUTURE_SKEW_S: { to: 'INGEST_MAX_FUTURE_SKEW', unit: 's' },
  RETENTION_DAYS: { to: 'READINGS_RETENTION', unit: 'd' },
  COMPRESS_AFTER_DAYS: { to: 'READINGS_COMPRESS_AFTER', unit: 'd' },
  DEAD_LETTER_RETENTION_DAYS: { to: 'DEAD_LETTER_RETENTION', unit: 'd' },
  ALERT_HISTORY_RETENTION_DAYS: { to: 'ALERT_HISTORY_RETENTION', unit: 'd' },
  AUDIT_RETENTION_DAYS: { to: 'AUDIT_RETENTION', unit: 'd' },
  WEBHOOK_ALLOW_DESTINATIONS: { to: 'EGRESS_ALLOW', join: true },
}

const UNIT_NAME = { ms: 'milliseconds', s: 'seconds', d: 'days' } as const

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Variables whose whole value is a secret: named so by convention. */
const SECRET_NAME = /_(PASSWORD|TOKEN|HASH|SECRET|KEY)$/

/** Whether a variable's value is a secret, never shown (errors, `housing-brain config`). */
export const isSecretSetting = (name: string): boolean => SECRET_NAME.test(name)

/**
 * How a rejected value is quoted in a ConfigError: error output ends up in terminals, CI logs and
 * bug reports, so a secret variable's value is never shown and a URL's password is masked (a
 * mistyped DATABASE_URL would otherwise print its password).
 */
export function shownValue(name: string, value: string): string {
  if (isSecretSetting(name)) return '(value hidden)'
  // scheme://user:password@host — mask whatever sits between the first ':' after '//' and '@'.
  return `"${value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@')}"`
}

const isSet = (v: string | undefined): v is string => v !== undefined && v !== ''

/** The old names still set, as values of the new names; problems for values that are no number. */
function renamedValues(env: Record<string, string | undefined>, problems: string[], retired: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [old, { to, unit, join }] of Object.entries(RENAMED)) {
    const value = env[old]
    if (!isSet(value)) continue
    if (join) {
      out[to] = [env[to], value].filter(isSet).join(',')
      retired.push(`${old} is read as part of ${to}; move its entries there`)
    } else if (isSet(env[to])) {
      retired.push(`${old} is ignored: ${to} is set too; remove ${old}`)
    } else if (unit && !/^\d+(\.\d+)?$/.test(value.trim())) {
      problems.push(`${old}: expected a number of ${UNIT_NAME[unit]} (got ${shownValue(old, value)}); or set ${to} instead, e.g. ${to}=30${unit}`)
    } else {
      out[to] = unit ? `${value.trim()}${unit}` : value
      retired.push(`${old} is read as ${to}=${out[to]}; rename it (the old name will stop being read in a later version)`)
    }
  }
  return out
}

/** Parses the environment (or an override map in tests). Throws ConfigError naming each bad variable. */
export function loadConfig(given: Record<string, string | undefined> = environment().env): Config {
  const problems: string[] = []
  const retired = Object.entries(RETIRED)
    .filter(([name]) => isSet(given[name]))
    .map(([name, what]) => `${name} is no longer read: ${what}`)
  const env = { ...given, ...renamedValues(given, problems, retired) }
  const sections: Record<string, Record<string, unknown>> = {}
  for (const s of SETTINGS) {
    const raw = env[s.env]
    const parsed = s.schema.safeParse(isSet(raw) ? raw : s.default)
    if (parsed.success) (sections[s.section] ??= {})[s.key] = parsed.data
    else for (const issue of parsed.error.issues) problems.push(`${s.env}: ${issue.message}${isSet(raw) ? ` (got ${shownValue(s.env, raw)})` : ''}`)
  }
  if (problems.length > 0) throw new ConfigError(problems)
  const cfg = sections as unknown as Omit<Config, 'explicit' | 'retired' | 'unknown'>
  if ((cfg.broker.tlsCertFile === undefined) !== (cfg.broker.tlsKeyFile === undefined)) {
    throw new ConfigError(['TLS_CERT_FILE and TLS_KEY_FILE: set both to enable MQTT over TLS, or neither'])
  }
  const explicit = new Set(SETTINGS.map((s) => s.env).filter((name) => isSet(env[name])))
  return { ...cfg, explicit, retired, unknown: unknownVariables(given) }
}

/**
 * The variables to read: the process's environment over a settings file, `ENV_FILE` or else
 * `.env` in the working directory when there is one (the environment wins, as with docker
 * compose and dotenv). A named ENV_FILE that cannot be read is an error.
 */
export function environment(processEnv: Record<string, string | undefined> = process.env, cwd = process.cwd()): { env: Record<string, string | undefined>; file: string | undefined } {
  const named = processEnv.ENV_FILE
  const file = isSet(named) ? path.resolve(cwd, named) : path.join(cwd, '.env')
  if (!isSet(named) && !existsSync(file)) return { env: processEnv, file: undefined }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError([`ENV_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`])
  }
  return { env: { ...parseEnv(text), ...processEnv }, file }
}

/**
 * First words of the settings' names that other software does not use too (NODE_, HTTP_, HOST…
 * do: NODE_ENV, HTTP_PROXY): a variable starting with one that no setting reads is most likely a
 * typo, silently ignored until now.
 */
const SHARED_PREFIXES = new Set(['NODE', 'HTTP', 'HOST', 'DATA', 'LOG', 'API', 'TRUST'])
const KNOWN = [...SETTINGS.map((s) => s.env), ...Object.keys(RETIRED), ...Object.keys(RENAMED)]
const PREFIXES = new Set(KNOWN.map((k) => k.split('_')[0] ?? k).filter((p) => !SHARED_PREFIXES.has(p)))

function unknownVariables(env: Record<string, string | undefined>): string[] {
  const known = new Set(KNOWN)
  return Object.keys(env)
    .filter((name) => !known.has(name) && PREFIXES.has(name.split('_')[0] ?? name))
    .sort()
    .map((name) => {
      const near = nearest(name, KNOWN)
      return `${name} is not a setting and is ignored${near ? `; did you mean ${near}?` : ''} (the settings: docs/configuration.md)`
    })
}

/** The known name closest to `name` by edit distance, if it is close (at most a third of its length). */
function nearest(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.floor(name.length / 3) + 1
  for (const candidate of names) {
    const d = editDistance(name, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = row
  }
  return previous[b.length] ?? 0
}
