// What a resident is shown of an alert of their community. Residents see what is theirs or public:
// that an alert exists, its severity, title, state and times; the where, the picture, the
// description and the name behind another resident's hazard report are that resident's, and the
// crews' notes, comments, escalations and reminders are internal to the property service.
// Everyone else gets the alert as it is (their visibility is decided in routes/alerts.ts).
import type { Alert, AlertEvent } from '../../core/repos/alerts.ts'
import type { Principal } from '../../core/repos/tokens.ts'
import { ownReport } from '../access.ts'

/** History entries that are the service's internal business. */
const INTERNAL_EVENTS = new Set(['commented', 'escalated', 'reminded', 'assigned', 'published'])
/** Stands in for another resident's name. */
const ANOTHER_RESIDENT = 'resident'


export function alertFor(p: Principal, a: Alert): Alert {
  if (p.role !== 'resident' || ownReport(p, a)) return a
  return {
    ...a,
    location: null,
    photoUrl: null,
    reportedBy: null,
    assignedTo: null,
    // A resident's description is theirs; a rule's reason is public.
    reason: a.source === 'resident' ? null : a.reason,
    reasonDetail: a.source === 'resident' ? null : a.reasonDetail,
  }
}

export function historyFor(p: Principal, a: Alert, events: AlertEvent[]): AlertEvent[] {
  if (p.role !== 'resident') return events
  const own = ownReport(p, a)
  return events
    .filter((e) => !INTERNAL_EVENTS.has(e.type))
    .map((e) => ({
      ...e,
      actor: !own && a.reportedBy !== null && e.actor === a.reportedBy ? ANOTHER_RESIDENT : e.actor,
      // Notes are the crews' (or another resident's); only the resident's own words come back.
      note: e.actor === p.name ? e.note : null,
      // A photo added to their own report is theirs to see (api/access.ts mustSeePhotos).
      data: own && e.type === 'attachment' ? e.data : null,
    }))
}
