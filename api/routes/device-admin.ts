// Registering and changing devices (housing office). The device secret is returned once, at
// creation and at rotation; disabling a device or rotating its secret closes its live MQTT
// connections at once (the broker hears of it through NOTIFY) and refuses the old credentials.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { DEVICE_KINDS, idSchema } from '../../core/contract.ts'
import { withArticle } from '../../shared/text.ts'
import { ELEVATOR_CODE, PLACE_MAX, type ElevatorCodeField, type PlaceField } from '../../shared/place.ts'
import type { Queryable } from '../../core/db/client.ts'
import { AppError } from '../../core/errors.ts'
import { provisionDevices } from '../../core/provision.ts'
import { externalIdTaken, getDevice, updateDevice, type DevicePatch } from '../../core/repos/devices.ts'
import { getProfile } from '../../core/repos/profiles.ts'
import { expectedIntervalOf } from '../../core/profiles/schema.ts'
import type { DeviceKind } from '../../core/contract.ts'
import { getCommunity } from '../../core/repos/registry.ts'
import { generateSecret, hashSecret } from '../../core/secrets.ts'
import { requireRole } from '../access.ts'
import { device, errorBody, errorResponses } from '../schemas.ts'


const withSecret = z.object({
  device,
  secret: z.string().describe('The MQTT password of the device; shown this once, stored only as a scrypt hash'),
})

const interval = z.number().int().min(1, 'expectedIntervalS must be at least 1 second').max(86_400, 'expectedIntervalS must be at most a day')

/** A gateway must exist, be a gateway, and not be the device itself. */
async function checkGateway(db: Queryable, deviceId: string, gatewayId: string | null | undefined): Promise<void> {
  if (gatewayId === null || gatewayId === undefined) return
  if (gatewayId === deviceId) throw new AppError('validation_failed', 'body.gatewayId: a device cannot be its own gateway')
  const gw = await getDevice(db, gatewayId)
  if (!gw) throw new AppError('validation_failed', `body.gatewayId: no device "${gatewayId}"`)
  if (gw.kind !== 'gateway') throw new AppError('validation_failed', `body.gatewayId: "${gatewayId}" is not a gateway (it is ${withArticle(gw.kind)} device)`)
}

async function checkCommunity(db: Queryable, communityId: string | undefined): Promise<void> {
  if (communityId !== undefined && !(await getCommunity(db, communityId))) throw new AppError('validation_failed', `body.communityId: no community "${communityId}"`)
}

const links = {
  profileId: idSchema.nullable().optional().describe('A device profile (GET /api/v1/profiles) of the same kind; its report interval becomes the expected interval unless expectedIntervalS is sent too'),
  devEui: z
    .string()
    .regex(/^[0-9A-Fa-f]{16}$/, 'expected a DevEUI of 16 hexadecimal digits')
    .transform((v) => v.toLowerCase())
    .nullable()
    .optional()
    .describe('LoRaWAN DevEUI, how ChirpStack names the device'),
  imei: z.string().regex(/^\d{15}$/, 'expected an IMEI of 15 digits').nullable().optional().describe('IMEI of the NB-IoT / Cat.1 module, how OneNET and CTWing name the device'),
}

/** Free text of a place field: trimmed, empty meaning none, bounded as shared/place.ts says. */
const placeField = (field: PlaceField, what: string) =>
  z
    .string()
    .trim()
    .max(PLACE_MAX[field], `at most ${PLACE_MAX[field]} characters; shorten it`)
    .transform((v) => (v === '' ? null : v))
    .nullable()
    .optional()
    .describe(`${what}; empty or null clears it`)

const elevatorCode = (field: ElevatorCodeField, what: string) =>
  z
    .string()
    .trim()
    .regex(ELEVATOR_CODE[field].pattern, `expected 1–${ELEVATOR_CODE[field].max} letters, digits or hyphens, as on the elevator's certificate`)
    .nullable()
    .optional()
    .describe(`${what}; elevators only`)

/** Where the device is (issue 20), so a crew member finds the door. */
const place = {
  building: placeField('building', '楼号: the building, as residents name it ("3", "A座")'),
  unit: placeField('unit', '单元: the stairway unit'),
  floor: placeField('floor', 'The floor ("12", "B1")'),
  location: placeField('location', 'Where exactly, in words ("3号楼东侧消防通道井盖")'),
  registrationCode: elevatorCode('registrationCode', '电梯注册代码: the registration code (20 digits in China)'),
  rescueCode: elevatorCode('rescueCode', '救援识别码: the rescue code on the car'),
}

const coordinates = {
  latitude: z.number().min(-90).max(90).nullable().optional().describe('Where the device is (WGS 84 degrees), with longitude; null clears both'),
  longitude: z.number().min(-180).max(180).nullable().optional(),
}

/** Latitude and longitude go together: both set, both null (cleared) or both left out. */
function coordinatesOf(b: { latitude?: number | null | undefined; longitude?: number | null | undefined }): DevicePatch['coordinates'] {
  const { latitude, longitude } = b
  if (latitude === undefined && longitude === undefined) return undefined
  if (latitude === null && longitude === null) return null
  if (typeof latitude === 'number' && typeof longitude === 'number') return { latitude, longitude }
  const missing = typeof latitude === 'number' ? 'longitude' : 'latitude'
  throw new AppError('validation_failed', `body.${missing}: give latitude and longitude together (both null clears them)`)
}

/** An elevator's codes on another kind of device are a mistake to name, not to store. */
function checkElevatorCodes(deviceId: string, kind: DeviceKind, b: { registrationCode?: string | null | undefined; rescueCode?: string | null | undefined }): void {
  if (kind === 'elevator') return
  const names = { registrationCode: 'registration code', rescueCode: 'rescue code' } as const
  for (const field of ['registrationCode', 'rescueCode'] as const) {
    const v = b[field]
    if (v !== undefined && v !== null) {
      throw new AppError('validation_failed', `body.${field}: only an elevator has a ${names[field]}; "${deviceId}" is ${withArticle(kind)} device — leave ${field} out`)
    }
  }
}

/** The opt-in of issue 18: without it a platform token cannot write to an MQTT-only device. */
const platformIdFallback = z
  .boolean()
  .optional()
  .describe('Let OneNET and CTWing pushes without an IMEI name this device by its id (their dev_id / deviceId); off by default')

/**
 * Checks the profile and external ids a request sets for a device: the profile must exist and be
 * for the device's kind, an id may name one device only. Returns the patch to apply.
 */
async function checkLinks(
  db: Queryable,
  deviceId: string,
  kind: DeviceKind,
  b: { profileId?: string | null | undefined; devEui?: string | null | undefined; imei?: string | null | undefined; expectedIntervalS?: number | undefined },
): Promise<DevicePatch> {
  const patch: DevicePatch = {}
  if (b.profileId !== undefined) {
    patch.profileId = b.profileId
    if (b.profileId !== null) {
      const profile = await getProfile(db, b.profileId)
      if (!profile) throw new AppError('validation_failed', `body.profileId: no device profile "${b.profileId}"`)
      if (profile.kind !== kind) throw new AppError('validation_failed', `body.profileId: "${b.profileId}" is a profile for ${profile.kind} devices, this is ${withArticle(kind)} device`)
      const every = expectedIntervalOf(profile.definition)
      if (every !== undefined && b.expectedIntervalS === undefined) patch.expectedIntervalS = every
    }
  }
  for (const column of ['devEui', 'imei'] as const) {
    const value = b[column]
    if (value === undefined) continue
    patch[column] = value
    if (value === null) continue
    const other = await externalIdTaken(db, deviceId, column, value)
    if (other !== undefined) throw new AppError('conflict', `body.${column}: ${value} already names device "${other}"`)
  }
  return patch
}

/** The place fields a creation sent, to store with it. */
function placeOf(b: DevicePatch): DevicePatch {
  const out: DevicePatch = {}
  for (const k of Object.keys(place) as (keyof typeof place)[]) if (b[k] !== undefined) out[k] = b[k]
  return out
}

const deviceAdmin: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  const fetchDevice = async (id: string) => {
    const d = await getDevice(db, id)
    if (!d) throw new AppError('device_not_found', `No device "${id}"`)
    return d
  }

  app.post(
    '',
    {
      schema: {
        tags: ['devices'],
        summary: 'Register a device; its secret is returned once',
        body: z.object({
          id: idSchema,
          kind: z.enum(DEVICE_KINDS),
          communityId: z.string().min(1),
          gatewayId: idSchema.nullable().optional().describe('The gateway that publishes for this device, if any'),
          name: z.string().trim().min(1).max(120).optional(),
          expectedIntervalS: interval.optional().describe('How often the device reports (no-data rules count in these)'),
          ...links,
          platformIdFallback,
          ...place,
          ...coordinates,
        }),
        response: { 201: withSecret, 409: errorBody, ...errorResponses },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin', 'operator')
      const b = req.body
      if (await getDevice(db, b.id)) throw new AppError('conflict', `A device "${b.id}" exists; rotate its secret with POST /api/v1/devices/${b.id}/secret`)
      await checkCommunity(db, b.communityId)
      if (b.kind === 'gateway' && b.gatewayId) throw new AppError('validation_failed', 'body.gatewayId: a gateway reports for itself')
      await checkGateway(db, b.id, b.gatewayId)
      checkElevatorCodes(b.id, b.kind, b)
      const at = coordinatesOf(b)
      const linked: DevicePatch = { ...placeOf(b), ...(at === undefined ? {} : { coordinates: at }), ...(await checkLinks(db, b.id, b.kind, b)) }
      const [created] = await provisionDevices(db, [
        {
          id: b.id,
          kind: b.kind,
          communityId: b.communityId,
          gatewayId: b.gatewayId ?? null,
          ...(b.name === undefined ? {} : { name: b.name }),
          ...(b.expectedIntervalS === undefined ? {} : { expectedIntervalS: b.expectedIntervalS }),
          ...(b.platformIdFallback === undefined ? {} : { platformIdFallback: b.platformIdFallback }),
        },
      ])
      if (Object.keys(linked).length > 0) await db.transaction((tx) => updateDevice(tx, b.id, linked))
      return reply.code(201).send({ device: await fetchDevice(b.id), secret: created?.secret ?? '' })
    },
  )

  const idParams = z.object({ id: idSchema })

  app.patch(
    '/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'Change a device (enabled: false refuses it and closes its connection at once)',
        params: idParams,
        body: z
          .object({
            name: z.string().trim().min(1).max(120).nullable().optional(),
            enabled: z.boolean().optional(),
            gatewayId: idSchema.nullable().optional(),
            expectedIntervalS: interval.optional(),
            communityId: z
              .string()
              .min(1)
              .optional()
              .describe("Move the device to another community: alerts raised from now on go to that community's company; open ones stay with the company they were dispatched to"),
            ...links,
            platformIdFallback,
            ...place,
            ...coordinates,
          })
          .refine((b) => Object.keys(b).length > 0, {
            message: 'send at least one of name, enabled, gatewayId, expectedIntervalS, communityId, profileId, devEui, imei, platformIdFallback, building, unit, floor, location, registrationCode, rescueCode, latitude, longitude',
          }),
        response: { 200: device, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const current = await fetchDevice(req.params.id)
      if (current.kind === 'gateway' && req.body.gatewayId) throw new AppError('validation_failed', 'body.gatewayId: a gateway reports for itself')
      await checkGateway(db, current.id, req.body.gatewayId)
      await checkCommunity(db, req.body.communityId)
      checkElevatorCodes(current.id, current.kind, req.body)
      const { latitude, longitude, ...rest } = req.body
      const at = coordinatesOf({ latitude, longitude })
      const linked = await checkLinks(db, current.id, current.kind, req.body)
      await db.transaction((tx) => updateDevice(tx, current.id, { ...rest, ...(at === undefined ? {} : { coordinates: at }), ...linked }))
      return fetchDevice(current.id)
    },
  )

  app.post(
    '/:id/secret',
    {
      schema: {
        tags: ['devices'],
        summary: 'Rotate the device secret: the new one is returned once, the old one stops working at once',
        params: idParams,
        response: { 200: withSecret, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const current = await fetchDevice(req.params.id)
      const secret = generateSecret()
      const secretHash = await hashSecret(secret)
      await db.transaction((tx) => updateDevice(tx, current.id, { secretHash }))
      return { device: await fetchDevice(current.id), secret }
    },
  )

  app.delete(
    '/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'Retire a device: it is disabled (its readings and alerts stay on record) and disconnected',
        params: idParams,
        response: { 200: device, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const current = await fetchDevice(req.params.id)
      await db.transaction((tx) => updateDevice(tx, current.id, { enabled: false }))
      return fetchDevice(current.id)
    },
  )
}

export default deviceAdmin
