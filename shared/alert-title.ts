// An alert's title in the reader's language (issue 21: "Resident report:" was stored in titles and
// so sent in Chinese SMS). A default rule's alert is titled by the catalogue (catalogue-text.ts); a
// resident's report keeps the resident's words and the frame around them as data (`titleDetail`,
// the alerts column title_detail) — the English `title` beside it stays for API readers. Reports
// stored before that column have only the English title; its frame is our own fixed text, so it is
// read back as the same data. Any other title (an operator's rule, a flow) is shown as stored.
// Imports only the catalogue's text: the console bundles it.
import { ruleText, type TextLang } from './catalogue-text.ts'

export type TitleDetail = { key: 'resident.report'; said: string }

const FRAME: Record<TextLang, Record<TitleDetail['key'], (said: string) => string>> = {
  en: { 'resident.report': (said) => `Resident report: ${said}` },
  'zh-CN': { 'resident.report': (said) => `居民报告：${said}` },
}

/** The title stored for API readers: the English of the data. */
export const titleText = (d: TitleDetail): string => FRAME.en[d.key](d.said)

export function isTitleDetail(x: unknown): x is TitleDetail {
  if (typeof x !== 'object' || x === null) return false
  const d = x as { key?: unknown; said?: unknown }
  return d.key === 'resident.report' && typeof d.said === 'string'
}

const LEGACY_REPORT = /^Resident report: (.*)$/s

export interface TitledAlert {
  ruleId: string
  title: string
  source?: string | undefined
  titleDetail?: unknown
}

/** The alert's title in `lang`: the catalogue's, the data's, else the stored text. */
export function titleIn(lang: TextLang, a: TitledAlert): string {
  const known = ruleText(a.ruleId, lang)?.title
  if (known !== undefined) return known
  if (isTitleDetail(a.titleDetail)) return FRAME[lang][a.titleDetail.key](a.titleDetail.said)
  const legacy = a.source === 'resident' ? LEGACY_REPORT.exec(a.title) : null
  if (legacy?.[1] !== undefined) return FRAME[lang]['resident.report'](legacy[1])
  return a.title
}
