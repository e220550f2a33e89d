// The filters of the audit log: GET /api/v1/audit and its CSV export take the same.
import { z } from 'zod'
import { requestTime } from '../schemas.ts'

export const auditFilterQuery = z.object({
  actor: z.string().min(1).optional().describe('A user id or user name'),
  action: z.string().min(1).optional().describe('An action name, e.g. rules.update'),
  target: z.string().min(1).optional().describe('An id the change names (a rule, device, user, silence…)'),
  company: z.string().min(1).optional().describe('The company the change concerns'),
  from: requestTime.optional().describe('At or after'),
  to: requestTime.optional().describe('Before'),
})
