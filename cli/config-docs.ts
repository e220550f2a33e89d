// The configuration reference (docs/configuration.md) and the example settings file
// (.env.example), written from the settings table (core/settings.ts) so that they cannot drift:
// `npm run docs:config` rewrites both, and test/unit/config-docs.test.ts fails when either is stale.
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { SETTINGS } from '../core/config.ts'
import { SECTIONS } from '../core/settings.ts'

const bySection = () =>
  Object.entries(SECTIONS).map(([name, s]) => ({ name, title: s.title, settings: SETTINGS.filter((x) => x.section === name) }))

const anchor = (title: string) => title.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')

/** A table cell: pipes escaped. */
const cell = (text: string) => text.replace(/\|/g, '\\|')

export function configReference(): string {
  const sections = bySection()
  const lines = [
    '<!-- Written by `npm run docs:config` from core/settings.ts; edit the settings there, not here. -->',
    '# Configuration reference',
    '',
    'Every setting is an environment variable, read once at start (core/config.ts). A file of',
    '`NAME=value` lines is read too: `ENV_FILE`, or else `.env` in the working directory when there',
    'is one ([.env.example](../.env.example) lists every setting, commented out, with its default);',
    'a variable set in the environment wins over the file. A wrong value stops the start with a',
    'message naming the variable and what it expected; the value of a secret (`*_PASSWORD`,',
    '`*_TOKEN`, `*_HASH`, `*_SECRET`, `*_KEY`) is never shown.',
    '',
    'Conventions: a time is a duration (`250ms`, `30s`, `5m`, `1h`, `7d`); a count is a whole',
    'number; an empty value is unset. In the code each section is one object (`cfg.ingest`,',
    '`cfg.notify`, …) handed to the unit it configures; times are held in milliseconds under keys',
    'ending in `Ms`.',
    '',
    'A variable that starts like a setting (`MQTT_`, `INGEST_`, `RULES_`, `NOTIFY_`, `CHIRPSTACK_`, …',
    '— the first words of the names below, except those other software uses too, such as `NODE_`',
    'and `HTTP_`) but is none is warned about at start with the nearest setting\'s name',
    '(`MQTT_PROT is not a setting and is ignored; did you mean MQTT_PORT?`). A setting of an earlier',
    'version is named at start with what to do: a renamed one is still read under its new name',
    '(`RETENTION_DAYS=30` as `READINGS_RETENTION=30d`), a removed one is ignored.',
    '',
    '## Sections',
    '',
    ...sections.map((s) => `- [${s.title}](#${anchor(s.title)}) — \`cfg.${s.name}\``),
    '',
  ]
  for (const s of sections) {
    lines.push(`## ${s.title}`, '', `\`cfg.${s.name}\``, '', '| variable | default | key | meaning |', '|---|---|---|---|')
    for (const x of s.settings) {
      const def = x.default === undefined ? 'unset' : x.default === '' ? '(empty)' : `\`${x.default}\``
      lines.push(`| \`${x.env}\` | ${cell(def)} | \`${x.key}\` | ${cell(x.doc)} |`)
    }
    lines.push('')
  }
  return lines.join('\n')
}

/** Markdown to plain text for a comment: links keep their words, code keeps its text. */
const plain = (doc: string) => doc.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1').replace(/`([^`]*)`/g, '$1')

/** Wraps `text` into comment lines of at most `width` characters. */
function comment(text: string, width = 100): string[] {
  const out: string[] = []
  let line = '#'
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > width && line !== '#') {
      out.push(line)
      line = '#'
    }
    line += ` ${word}`
  }
  out.push(line)
  return out
}

export function envExample(): string {
  const lines = [
    '# housing-brain settings: copy to .env (read at start from the working directory, or name the',
    '# file with ENV_FILE) and set what you need; a variable in the environment wins over the file.',
    '# Every setting is listed, commented out, with its default. Reference: docs/configuration.md.',
    '# Written by `npm run docs:config` from core/settings.ts.',
  ]
  for (const s of bySection()) {
    lines.push('', `# ---- ${s.title} (cfg.${s.name}) ----`)
    for (const x of s.settings) {
      lines.push('', ...comment(plain(x.doc)), `# ${x.env}=${x.default ?? ''}`)
    }
  }
  return `${lines.join('\n')}\n`
}

export const REFERENCE_FILES = { 'docs/configuration.md': configReference, '.env.example': envExample } as const

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
  for (const [file, render] of Object.entries(REFERENCE_FILES)) {
    await writeFile(path.join(root, file), render())
    console.log(`wrote ${file}`)
  }
}
