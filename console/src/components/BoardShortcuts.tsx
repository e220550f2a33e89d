// The desk's keyboard shortcuts (lib/shortcuts.ts): j/k move a cursor over the board's rows, Enter
// opens the alert, a acknowledges it, r resolves it (pressed twice: a resolve is not undone), /
// goes to the text filter, ? shows them all. It reads the rows from the page (`#alerts
// tr[data-id]`), so the board only mounts it; the cursor is drawn by a rule naming the row, which
// survives the rows being redrawn by live updates.
import { useEffect, useRef, useState } from 'preact/hooks'
import { alertTitle, t } from '../i18n/index.ts'
import { act, alerts } from '../lib/alerts.ts'
import { go } from '../lib/router.ts'
import { commandOf, moveCursor, SHORTCUTS, type Command } from '../lib/shortcuts.ts'

/** How long the second r may wait. */
const CONFIRM_MS = 4000

const rowIds = (): number[] => [...document.querySelectorAll<HTMLElement>('#alerts tr[data-id]')].map((r) => Number(r.dataset.id))

export function BoardShortcuts() {
  const [cursor, setCursorState] = useState<number | null>(null)
  // The handler reads the cursor from here: keys pressed faster than the page redraws act on the row they moved to.
  const at = useRef<number | null>(null)
  const setCursor = (id: number | null) => {
    at.current = id
    setCursorState(id)
  }
  const [help, setHelp] = useState(false)
  const [said, setSaid] = useState('')
  const armed = useRef<{ id: number; until: number } | null>(null)
  const closeButton = useRef<HTMLButtonElement>(null)

  useEffect(() => {
    const title = (id: number) => {
      const a = alerts.get().get(id)
      return a ? alertTitle(a) : `#${id}`
    }
    const run = (command: Command, e: KeyboardEvent) => {
      const current = at.current !== null && rowIds().includes(at.current) ? at.current : null
      switch (command) {
        case 'down':
        case 'up': {
          const next = moveCursor(rowIds(), current, command === 'down' ? 1 : -1)
          setCursor(next)
          if (next !== null) {
            document.querySelector(`#alerts tr[data-id="${next}"]`)?.scrollIntoView({ block: 'nearest' })
            setSaid(title(next))
          }
          return
        }
        case 'open':
          if (current !== null) go('alert', current)
          return
        case 'ack':
          if (current === null) return
          act(current, 'ack').then(
            () => setSaid(t('keys.acked', { title: title(current) })),
            (err: unknown) => setSaid(err instanceof Error ? err.message : String(err)),
          )
          return
        case 'resolve': {
          if (current === null) return
          if (armed.current?.id !== current || armed.current.until < Date.now()) {
            armed.current = { id: current, until: Date.now() + CONFIRM_MS }
            setSaid(t('keys.resolveAgain', { title: title(current) }))
            return
          }
          armed.current = null
          act(current, 'resolve').then(
            () => setSaid(t('keys.resolved', { title: title(current) })),
            (err: unknown) => setSaid(err instanceof Error ? err.message : String(err)),
          )
          return
        }
        case 'filter':
          e.preventDefault()
          document.querySelector<HTMLInputElement>('#filter-text')?.focus()
          return
        case 'help':
          setHelp(true)
          return
        case 'close':
          setHelp(false)
          return
      }
    }
    const onKey = (e: KeyboardEvent) => {
      const command = commandOf(e)
      if (command === undefined) return
      // A dialog open on the page (the alert's detail, a bulk confirmation) keeps its own keys.
      if (command !== 'close' && command !== 'help' && document.querySelector('.detail, [aria-modal="true"]:not(#keys-help)')) return
      run(command, e)
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
    // Registered once: the state it needs is in refs and stable setters.
  }, [])

  useEffect(() => {
    if (help) closeButton.current?.focus()
  }, [help])

  return (
    <>
      {cursor !== null && <style>{`#alerts tr[data-id="${cursor}"] { outline: 3px solid var(--link); outline-offset: -3px; }`}</style>}
      <p class="sr-only" role="status" id="keys-status">
        {said}
      </p>
      {said && (
        <p class="muted small keys-said" aria-hidden="true">
          {said}
        </p>
      )}
      {help && (
        <div class="modal" role="dialog" aria-modal="true" aria-labelledby="keys-help-title" id="keys-help" onClick={() => setHelp(false)}>
          <div class="modal-box" onClick={(e) => e.stopPropagation()}>
            <h2 id="keys-help-title">{t('keys.title')}</h2>
            <dl class="keys">
              {SHORTCUTS.map((s) => (
                <div key={s.key}>
                  <dt>
                    <kbd>{s.label}</kbd>
                  </dt>
                  <dd>{t(`keys.${s.command}`)}</dd>
                </div>
              ))}
            </dl>
            <div class="modal-actions">
              <button type="button" ref={closeButton} onClick={() => setHelp(false)}>
                {t('keys.close')}
              </button>
            </div>
          </div>
        </div>
      )}
    </>
  )
}
