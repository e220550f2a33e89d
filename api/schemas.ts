// Schema pieces shared by the routes. Request and response shapes are zod; the OpenAPI document
// is generated from them.
import { z } from 'zod'
import { DEVICE_KINDS } from '../core/contract.ts'
import { AppError } from '../core/errors.ts'
import { parseDuration } from '../shared/duration.ts'

/** An RFC 3339 time on the wire, a Date in the handler (decoded in requests, encoded in responses). */
export const timestamp = z.codec(z.iso.datetime({ offset: true }), z.date(), {
  decode: (s) => new Date(s),
  encode: (d) => d.toISOString(),
})

/**
 * The earliest and latest time a request may name. Outside them a date is a mistake, and an
 * unbounded one reaches arithmetic (a previous period, a bucket count) and the database's own
 * range (SQLSTATE 22008) as a 500. Responses use `timestamp`, which stays unbounded.
 */
export const TIME_MIN = '1970-01-01T00:00:00Z'
export const TIME_MAX = '3000-01-01T00:00:00Z'
const TIME_MIN_MS = Date.parse(TIME_MIN)
const TIME_MAX_MS = Date.parse(TIME_MAX)

/** A time sent by the caller (query or body): RFC 3339, between TIME_MIN and TIME_MAX. */
export const requestTime = z.codec(
  z.iso.datetime({ offset: true }).refine((s) => {
    const ms = Date.parse(s)
    return ms >= TIME_MIN_MS && ms < TIME_MAX_MS
  }, `expected a time from ${TIME_MIN} to before ${TIME_MAX}`),
  z.date(),
  { decode: (s) => new Date(s), encode: (d) => d.toISOString() },
)

export { errorBody, errorResponses } from '../core/error-body.ts'

export const limitParam = z.coerce.number().int().min(1).max(1000).default(100)

/** The longest duration a request may give (ten years): beyond it, date arithmetic overflows. */
export const DURATION_MAX_MS = 3650 * 86_400_000

/** "500ms", "30s", "5m", "1h", "1d" → milliseconds, at most DURATION_MAX_MS. */
export const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration such as 30s, 5m, 1h or 1d')
  .transform((s, ctx) => {
    const ms = parseDuration(s) ?? 0
    if (ms <= 0) ctx.addIssue({ code: 'custom', message: 'duration must be positive' })
    if (ms > DURATION_MAX_MS) ctx.addIssue({ code: 'custom', message: 'duration must be at most 3650d' })
    return ms
  })

/** `:id` of a row the database numbers (an alert, a silence). */
export const serialParams = z.object({ id: z.coerce.number().int().positive() })

/** `:id` of a record named by people (a company, a community, a user). */
export const keyParams = z.object({ id: z.string() })

/** The cursor of a page numbered by serial ids: the previous page's nextCursor. */
export const serialCursor = z.coerce.number().int().positive().optional().describe('The nextCursor of the previous page')

/**
 * A route's own check past its schema (a policy, a reason detail): `check` runs, and the first
 * misfit of a ZodError it throws becomes 400 validation_failed naming the field under `where`
 * ("body.reasonDetail.afterMs: …"), as a schema error would.
 */
export function checked<T>(where: string, check: () => T, fallback = 'not valid'): T {
  try {
    return check()
  } catch (err) {
    if (!(err instanceof z.ZodError)) throw err
    const issue = err.issues[0]
    const path = [where, ...(issue?.path ?? [])].join('.')
    throw new AppError('validation_failed', `${path}: ${issue?.message ?? fallback}`)
  }
}

/** A device as the registry shows it (GET /devices and the admin routes that return one). */
export const device = z.object({
  id: z.string(),
  kind: z.enum(DEVICE_KINDS),
  name: z.string().nullable(),
  communityId: z.string(),
  companyId: z.string().nullable(),
  gatewayId: z.string().nullable(),
  enabled: z.boolean(),
  expectedIntervalS: z.number().int(),
  profileId: z.string().nullable().describe('The device profile that decodes its payloads'),
  devEui: z.string().nullable().describe('LoRaWAN DevEUI (lower-case hex)'),
  imei: z.string().nullable().describe('IMEI of its NB-IoT / Cat.1 module'),
  platformIdFallback: z.boolean().describe('OneNET and CTWing pushes without an IMEI may name it by its id'),
  latitude: z.number().nullable().describe('Where the device is (WGS 84), when known'),
  longitude: z.number().nullable(),
  building: z.string().nullable().describe('楼号: the building, as written ("3", "A座")'),
  unit: z.string().nullable().describe('单元: the stairway unit'),
  floor: z.string().nullable().describe('The floor ("12", "B1")'),
  location: z.string().nullable().describe('Where exactly, in words: "3号楼东侧消防通道井盖"'),
  registrationCode: z.string().nullable().describe('电梯注册代码: the registration code of an elevator'),
  rescueCode: z.string().nullable().describe('救援识别码: the rescue code of an elevator'),
  createdAt: timestamp,
})
