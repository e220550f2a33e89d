// Text that came from a device, made safe to store and to show.
//
// PostgreSQL `text` cannot hold U+0000 (SQLSTATE 22021: one such dead letter stopped all
// ingestion, issue 7 item 1), and a lone UTF-16 surrogate has no UTF-8 form (the driver would
// silently turn it into U+FFFD). Both are written as the JSON-style escape `\u0000` / `\udc00`, so
// what is stored still says what was sent. Every such text is also bounded in length: a dead
// letter's reason once held 921,678 characters (item 15).

// NUL, or a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

const escape = (ch: string) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`

/**
 * `text` with NUL and lone surrogates escaped, cut to at most `maxChars` UTF-16 units (an
 * ellipsis marks a cut; a surrogate pair is never split).
 */
export function storableText(text: string, maxChars: number): string {
  // Escaping can only lengthen; cutting first keeps the work bounded by `maxChars`.
  let out = text.length > maxChars ? text.slice(0, maxChars) : text
  out = out.replace(UNSAFE, escape)
  if (out.length <= maxChars && text.length <= maxChars) return out
  let end = Math.max(0, maxChars - 1)
  const last = out.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end--
  return `${out.slice(0, end)}…`
}

/** English's indefinite article before a word we write: "an elevator", "a manhole", "a fire_tank". */
export function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`
}
