// Devices: registry view, newest values and bucketed history.
import type { FastifyRequest } from 'fastify'
import { deviceConnectivity } from '../../core/repos/map.ts'
import { connectivityOf, connectivitySchema } from '../devices/connectivity.ts'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { DEVICE_KINDS, DEVICE_STATUS, idSchema } from '../../core/contract.ts'
import { AppError } from '../../core/errors.ts'
import { getDevice, getDeviceStatus, listDevices } from '../../core/repos/devices.ts'
import { AGGREGATES, bucketedReadings, latestFor, rawReadings } from '../../core/repos/readings.ts'
import { companyScope, mustSeeDeviceOfStreet, principalOf, requireRole, streetScope } from '../access.ts'
import { device, duration, errorResponses, limitParam, requestTime, timestamp } from '../schemas.ts'

const deviceDetail = device.extend({
  status: z.enum(DEVICE_STATUS).nullable().describe('Last status the device (or its Last Will) reported'),
  statusChangedAt: timestamp.nullable(),
})

const idParams = z.object({ id: idSchema })

/** Most buckets one request may ask for. */
const MAX_BUCKETS = 10_000
const DAY_MS = 86_400_000

const devices: FastifyPluginAsyncZod = async (app) => {
  const deps = app.deps
  const db = deps.db

  app.get(
    '',
    {
      schema: {
        tags: ['devices'],
        summary: 'List devices',
        querystring: z.object({
          community: z.string().optional(),
          kind: z.enum(DEVICE_KINDS).optional(),
          gateway: z.string().optional(),
          limit: limitParam,
          cursor: z.string().optional().describe('The nextCursor of the previous page'),
        }),
        response: { 200: z.object({ items: z.array(device), nextCursor: z.string().nullable() }), ...errorResponses },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin', 'operator', 'crew', 'service', 'street_officer')
      const q = req.query
      const items = await listDevices(db, { communityId: q.community, kind: q.kind, gatewayId: q.gateway, after: q.cursor, limit: q.limit, companyId: companyScope(p), streetId: streetScope(p) })
      return { items, nextCursor: items.length === q.limit ? (items.at(-1)?.id ?? null) : null }
    },
  )

  /** The device, if the caller may see it (access.ts). */
  const mustExist = async (req: FastifyRequest, id: string) => mustSeeDeviceOfStreet(db, principalOf(req), await getDevice(db, id), id)

  app.get(
    '/:id',
    {
      schema: { tags: ['devices'], summary: 'One device with its connectivity status', params: idParams, response: { 200: deviceDetail, ...errorResponses } },
    },
    async (req) => {
      const d = await mustExist(req, req.params.id)
      const status = await getDeviceStatus(db, d.id)
      return { ...d, status: status?.status ?? null, statusChangedAt: status?.changedAt ?? null }
    },
  )

  app.get(
    '/:id/status',
    {
      schema: {
        tags: ['devices'],
        summary: 'Is the device online: its status message, an offline alert, or (without either) the age of its newest reading; when it was last seen',
        params: idParams,
        response: { 200: connectivitySchema.extend({ deviceId: z.string(), statusChangedAt: timestamp.nullable().describe('When its status message last changed') }), ...errorResponses },
      },
    },
    async (req) => {
      const d = await mustExist(req, req.params.id)
      const [row] = await deviceConnectivity(db, { deviceId: d.id, limit: 1 })
      if (!row) throw new AppError('device_not_found', `No device "${d.id}"`)
      return { deviceId: d.id, statusChangedAt: row.statusChangedAt, ...connectivityOf(row, new Date()) }
    },
  )

  app.get(
    '/:id/latest',
    {
      schema: {
        tags: ['devices'],
        summary: 'Newest value of every metric of a device',
        params: idParams,
        response: {
          200: z.object({
            deviceId: z.string(),
            values: z.array(z.object({ metric: z.string(), ts: timestamp, value: z.number(), receivedAt: timestamp })),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const d = await mustExist(req, req.params.id)
      return { deviceId: d.id, values: await latestFor(db, d.id) }
    },
  )

  app.get(
    '/:id/readings',
    {
      schema: {
        tags: ['devices'],
        summary: 'History of one metric, raw or bucketed',
        description:
          'Without `bucket`, raw readings in time order. With `bucket` (e.g. 1m, 15m, 1h), one point per bucket aligned to ' +
          '2000-01-03T00:00Z, aggregated with `agg`. On TimescaleDB, minute- and hour-aligned requests are answered from ' +
          'the continuous aggregates.',
        params: idParams,
        querystring: z.object({
          metric: z.string().min(1),
          from: requestTime.optional().describe('Inclusive; default 24 h before `to`'),
          to: requestTime.optional().describe('Exclusive; default now'),
          bucket: duration.optional(),
          agg: z.enum(AGGREGATES).default('avg'),
          limit: z.coerce.number().int().min(1).max(MAX_BUCKETS).default(1000),
        }),
        response: {
          200: z.object({
            deviceId: z.string(),
            metric: z.string(),
            from: timestamp,
            to: timestamp,
            bucketMs: z.number().nullable(),
            agg: z.enum(AGGREGATES).nullable(),
            points: z.array(z.object({ ts: timestamp, value: z.number(), count: z.number().int().optional() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const q = req.query
      const d = await mustExist(req, req.params.id)
      const to = q.to ?? new Date()
      const from = q.from ?? new Date(to.getTime() - DAY_MS)
      if (from >= to) throw new AppError('validation_failed', 'querystring.from must be before querystring.to')
      const base = { deviceId: d.id, metric: q.metric, from, to }
      if (q.bucket === undefined) {
        const rows = await rawReadings(db, { ...base, limit: q.limit })
        return { ...base, bucketMs: null, agg: null, points: rows.map((r) => ({ ts: r.ts, value: r.value })) }
      }
      const buckets = Math.ceil((to.getTime() - from.getTime()) / q.bucket)
      if (buckets > MAX_BUCKETS) {
        throw new AppError('validation_failed', `querystring.bucket: ${buckets} buckets in this range, at most ${MAX_BUCKETS}; use a larger bucket or a shorter range`)
      }
      const rows = await bucketedReadings(db, { ...base, bucketMs: q.bucket, agg: q.agg, limit: q.limit }, deps.features.timescale !== undefined)
      return { ...base, bucketMs: q.bucket, agg: q.agg, points: rows.map((r) => ({ ts: r.bucket, value: r.value, count: r.count })) }
    },
  )
}

export default devices
