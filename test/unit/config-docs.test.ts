import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { REFERENCE_FILES } from '../../cli/config-docs.ts'
import { SETTINGS, loadConfig } from '../../core/config.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')

describe('the configuration reference and .env.example', () => {
  it.each(Object.keys(REFERENCE_FILES))('%s is what core/settings.ts says today (else: npm run docs:config)', async (file) => {
    const render = REFERENCE_FILES[file as keyof typeof REFERENCE_FILES]
    expect(await readFile(path.join(ROOT, file), 'utf8')).toBe(render())
  })

  it('names every setting once, each with a meaning', () => {
    const names = SETTINGS.map((s) => s.env)
    expect(new Set(names).size).toBe(names.length)
    for (const s of SETTINGS) expect(s.doc.length, s.env).toBeGreaterThan(10)
  })

  it('.env.example, copied as it is, starts with every default (each line is a commented NAME=default)', async () => {
    const text = await readFile(path.join(ROOT, '.env.example'), 'utf8')
    const uncommented = Object.fromEntries(
      [...text.matchAll(/^# ([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']),
    )
    expect(Object.keys(uncommented).sort()).toEqual(SETTINGS.map((s) => s.env).sort())
    // Every default, set explicitly, gives the configuration of an empty environment.
    const { explicit: _a, ...fromFile } = loadConfig(uncommented)
    const { explicit: _b, ...defaults } = loadConfig({})
    expect(fromFile).toEqual(defaults)
  })
})
