// Every relative link in the README and the pages under docs/ resolves: the file it names exists in
// the repository and, for `#anchor`, the target page has a heading with that GitHub slug. Code moves
// and section renames break such links silently; this finds them. External links are not fetched.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** GitHub's heading slug: lowercase, punctuation dropped except `-` and `_`, spaces to `-`; letters of any script kept. */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-')
}

/** The lines outside fenced code blocks, with inline code spans blanked (a link in code is not a link). */
function proseLines(markdown: string, blankCode = true): { line: string; no: number }[] {
  const out: { line: string; no: number }[] = []
  let fence: string | undefined
  markdown.split('\n').forEach((line, i) => {
    const f = /^\s*(```|~~~)/.exec(line)
    if (f) {
      if (fence === undefined) fence = f[1]
      else if (f[1] === fence) fence = undefined
      return
    }
    if (fence === undefined) out.push({ line: blankCode ? line.replace(/(`+)[^`]*?\1/g, (m) => ' '.repeat(m.length)) : line, no: i + 1 })
  })
  return out
}

/** Every anchor a page offers: its headings' slugs (duplicates numbered as GitHub does) and explicit `<a id|name>`s. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  for (const { line } of proseLines(markdown, false)) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (h) {
      const slug = githubSlug(h[1] ?? '')
      const n = seen.get(slug) ?? 0
      seen.set(slug, n + 1)
      anchors.add(n === 0 ? slug : `${slug}-${n}`)
    }
    for (const a of line.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) anchors.add(a[1] ?? '')
  }
  return anchors
}

/** The relative link targets of a page: `[x](target)`, `![x](target)`, and HTML `src`/`href`. */
function linksOf(markdown: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = []
  for (const { line, no } of proseLines(markdown)) {
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ target: m[1] ?? '', line: no })
    for (const m of line.matchAll(/\s(?:src|href)="([^"]*)"/g)) links.push({ target: m[1] ?? '', line: no })
  }
  return links.filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l.target))
}

function pages(): string[] {
  const docs = join(ROOT, 'docs')
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) return walk(path)
      return name.endsWith('.md') ? [path] : []
    })
  return [join(ROOT, 'README.md'), ...(existsSync(docs) ? walk(docs) : [])]
}

/** What is wrong with each broken relative link of the page at `file`, as `page:line target: why`. */
function brokenLinks(file: string, root = ROOT): string[] {
  const text = readFileSync(file, 'utf8')
  const problems: string[] = []
  const anchorCache = new Map<string, Set<string>>()
  const anchors = (path: string) => {
    let a = anchorCache.get(path)
    if (a === undefined) anchorCache.set(path, (a = anchorsOf(readFileSync(path, 'utf8'))))
    return a
  }
  for (const { target, line } of linksOf(text)) {
    const where = `${relative(root, file)}:${line} ${target}`
    if (target === '') {
      problems.push(`${where}: empty link`)
      continue
    }
    const hash = target.indexOf('#')
    const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash))
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1))
    const path = pathPart === '' ? file : resolve(dirname(file), pathPart)
    if (path !== root && !path.startsWith(root + sep)) {
      problems.push(`${where}: outside the repository`)
      continue
    }
    if (!existsSync(path)) {
      problems.push(`${where}: no such file`)
      continue
    }
    if (anchor !== undefined && path.endsWith('.md') && !anchors(path).has(anchor)) {
      problems.push(`${where}: no heading with the slug "${anchor}" in ${relative(root, path)}`)
    }
  }
  return problems
}

describe('documentation links', () => {
  it('slugs headings as GitHub does', () => {
    expect(githubSlug('Alerting guarantee: the commit-ordered feed and rules partitions')).toBe('alerting-guarantee-the-commit-ordered-feed-and-rules-partitions')
    expect(githubSlug("Residents' limits")).toBe('residents-limits')
    expect(githubSlug('CI: `.ci/run` and `.ci/newcomer`')).toBe('ci-cirun-and-cinewcomer')
    expect(githubSlug('OneNET (China Mobile) HTTP push')).toBe('onenet-china-mobile-http-push')
    expect(githubSlug('告警 生命周期 snake_case')).toBe('告警-生命周期-snake_case')
    expect([...anchorsOf('# A\n## A\n```\n# not a heading\n```\n### A!')]).toEqual(['a', 'a-1', 'a-2'])
  })

  it('finds relative links, not external ones or links in code', () => {
    const md = '[a](docs/x.md#y) ![p](shot.png "t") [e](https://example.org) `[c](nope.md)`\n```\n[d](nope.md)\n```\n<img src="i.png"> [h](#here)'
    expect(linksOf(md).map((l) => l.target)).toEqual(['docs/x.md#y', 'shot.png', '#here', 'i.png'])
  })

  it('covers the README and the pages under docs/', () => {
    const found = pages().map((p) => relative(ROOT, p))
    expect(found).toContain('README.md')
    expect(found.some((p) => p.startsWith(`docs${sep}`))).toBe(true)
  })

  it('has no broken relative link in the README or docs/', () => {
    expect(pages().flatMap((p) => brokenLinks(p))).toEqual([])
  })
})
