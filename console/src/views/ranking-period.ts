// The ranking's periods as the office names them, turned into the evaluation API's `from` and `to`
// (GET /api/v1/evaluation/ranking): calendar months start at the browser's midnight on the 1st, a
// custom range runs from the start of its first day to the end of its last.
export const PERIODS = ['last30', 'thisMonth', 'lastMonth', 'last3Months', 'custom'] as const
export interface PeriodChoice {
  kind: (typeof PERIODS)[number]
  /** yyyy-mm-dd of a custom range, as the date inputs give them; '' unset. */
  from: string
  to: string
}

const localDay = (ymd: string): Date | null => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd)
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null
}

const q = (from: Date, to: Date) => `?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`

/** The query string for the choice ('' for the API's default, the last 30 days); null: the range ends before it starts. */
export function periodQuery(c: PeriodChoice, now: Date): string | null {
  const y = now.getFullYear()
  const m = now.getMonth()
  switch (c.kind) {
    case 'last30':
      return ''
    case 'thisMonth':
      return q(new Date(y, m, 1), now)
    case 'lastMonth':
      return q(new Date(y, m - 1, 1), new Date(y, m, 1))
    case 'last3Months':
      return q(new Date(y, m - 3, now.getDate(), now.getHours(), now.getMinutes()), now)
    case 'custom': {
      const from = localDay(c.from)
      const last = localDay(c.to)
      if (!from || !last) return ''
      const to = new Date(last.getFullYear(), last.getMonth(), last.getDate() + 1)
      return from < to ? q(from, to) : null
    }
  }
}
