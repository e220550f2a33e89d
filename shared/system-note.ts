// What the alert service writes into a history event on its own, rather than a person's words, as
// data (`data.says`), so each reader renders it in their language (issue 21: no English in the
// Chinese console); the English `note` beside it stays for API readers and older consoles.
// Imports only pure shared modules: the console bundles it.
import { formatDuration } from './duration.ts'
import { durationZh } from './reason-text.ts'

/** How an alert came to be acknowledged when nobody pressed "acknowledge" itself. */
export const ACK_HOW = {
  start: 'starting work',
  en_route: 'setting off',
  arrive: 'arriving on site',
  claim: 'claiming it',
  link: 'the notification link',
} as const
export type AckHow = keyof typeof ACK_HOW

export type SystemNote =
  | { key: 'ack.by'; how: AckHow }
  | { key: 'resolve.auto' }
  | { key: 'escalate.ack'; withinMs: number }
  | { key: 'remind.ack'; withinMs: number }
  | { key: 'escalate.resolve' }

const KEYS = new Set(['ack.by', 'resolve.auto', 'escalate.ack', 'remind.ack', 'escalate.resolve'])

/** Whether stored event data's `says` is a note this build can render (else the stored text stands). */
export function isSystemNote(x: unknown): x is SystemNote {
  if (typeof x !== 'object' || x === null) return false
  const n = x as { key?: unknown; how?: unknown; withinMs?: unknown }
  if (typeof n.key !== 'string' || !KEYS.has(n.key)) return false
  if (n.key === 'ack.by') return typeof n.how === 'string' && Object.hasOwn(ACK_HOW, n.how)
  if (n.key === 'escalate.ack' || n.key === 'remind.ack') return typeof n.withinMs === 'number' && n.withinMs >= 0
  return true
}

/** The console's string keys for the notes (console/src/i18n/*.ts), with their one placeholder `{d}`. */
export type SystemNoteKey = `note.ack.${AckHow}` | 'note.resolve.auto' | 'note.escalate.ack' | 'note.remind.ack' | 'note.escalate.resolve'

/** A note in `lang`, from that language's strings (`text` fills `{d}`, a duration in the language's words). */
export function systemNoteText(n: SystemNote, lang: 'en' | 'zh-CN', text: (key: SystemNoteKey, params?: { d: string }) => string): string {
  const d = (ms: number) => ({ d: lang === 'zh-CN' ? durationZh(ms) : formatDuration(ms) })
  switch (n.key) {
    case 'ack.by':
      return text(`note.ack.${n.how}`)
    case 'resolve.auto':
      return text('note.resolve.auto')
    case 'escalate.ack':
      return text('note.escalate.ack', d(n.withinMs))
    case 'remind.ack':
      return text('note.remind.ack', d(n.withinMs))
    case 'escalate.resolve':
      return text('note.escalate.resolve')
  }
}
