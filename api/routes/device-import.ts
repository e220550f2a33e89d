// POST /api/v1/devices/import: a fleet registered from a CSV file (api/devices/import.ts), all or
// nothing. Every problem of the file comes back at once (422 import_rejected, a list of row,
// column, code, params, message), so one round of fixing is enough; `?dryRun=true` checks and
// writes nothing. A file refused whole (not UTF-8, too large, a race with another registration)
// answers the catalogue's error code with `details: { code, params }` from the same text
// (shared/import-text.ts), so the console can say it in the operator's language too.
// On success the new devices' secrets come back once, as a CSV attachment, and are stored only as
// scrypt hashes (core/secrets.ts newSecrets, as every device registration).
//
// Who: the office (admin, operator), as for registering one device.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { topics } from '../../core/contract.ts'
import { insertDevice } from '../../core/repos/devices.ts'
import { newSecrets } from '../../core/secrets.ts'
import { requireRole } from '../access.ts'
import { checkRows, IMPORT_COLUMNS, IMPORT_MAX_BYTES, IMPORT_MAX_ROWS, readCsv } from '../devices/import.ts'
import { csvOnly, kb, refuse, refused, refuseFile, rejected, takeCsvBodies } from '../import-answers.ts'
import { errorBody, errorResponses } from '../schemas.ts'
import { sendCsv } from '../csv.ts'

/** Someone registered one of the ids (or DevEUI, IMEI) between our check and our insert. */
const isUniqueViolation = (err: unknown) => (err as { code?: unknown } | null)?.code === '23505'

const deviceImport: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  takeCsvBodies(app, IMPORT_MAX_BYTES)

  app.post(
    '/import',
    {
      bodyLimit: IMPORT_MAX_BYTES,
      onRequest: csvOnly(IMPORT_MAX_BYTES, (length) => ({ code: 'file_too_large', params: { size: kb(length), max: kb(IMPORT_MAX_BYTES), rows: IMPORT_MAX_ROWS } })),
      schema: {
        tags: ['devices'],
        summary: 'Register many devices from a CSV file, all or nothing; their secrets are returned once, as CSV',
        description:
          `The body is a CSV file (Content-Type text/csv, UTF-8) whose first row names the columns, in any order: ${IMPORT_COLUMNS.join(', ')} ` +
          `(id, kind and community required). At most ${IMPORT_MAX_ROWS} devices and ${kb(IMPORT_MAX_BYTES)}. Every problem is answered at once ` +
          `(422 import_rejected; details.problems lists row, column, code, params and message) and nothing is written. With dryRun=true the file is ` +
          `only checked (200 with the count). Otherwise 201 with a CSV attachment: id, secret, mqtt_username, telemetry_topic — the ` +
          `secrets are shown this once and stored only hashed.`,
        consumes: ['text/csv'],
        querystring: z.object({
          dryRun: z
            .enum(['true', 'false'])
            .default('false')
            .transform((v) => v === 'true')
            .describe('true: check the file and report, write nothing'),
        }),
        body: z.string().describe('The CSV file'),
        response: {
          200: z.object({ dryRun: z.literal(true), devices: z.number().int().describe('Devices the file would register'), gateways: z.number().int() }),
          201: z.string().describe('text/csv: id,secret,mqtt_username,telemetry_topic — one row per new device'),
          ...errorResponses,
          400: refused,
          409: refused,
          413: refused,
          415: errorBody,
          422: rejected,
        },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin', 'operator')
      const read = readCsv(req.body)
      if (read.problems.length > 0 && read.rows.length === 0) throw refuse(read.problems)
      const checked = await checkRows(db, read.rows)
      const problems = [...read.problems, ...checked.problems]
      if (problems.length > 0) throw refuse(problems)
      const devices = checked.devices
      const gateways = devices.filter((d) => d.kind === 'gateway').length
      if (req.query.dryRun) return reply.code(200).send({ dryRun: true as const, devices: devices.length, gateways })

      // Hashed before the transaction, so it is not held open for the seconds scrypt takes.
      req.log.info({ devices: devices.length }, 'device import checked; hashing the new secrets')
      const issued = await newSecrets(devices.length)
      // A client that gave up meanwhile (a proxy's timeout) would never see the secrets: then
      // nothing is written, and the same file can simply be sent again.
      if (req.raw.socket.destroyed) {
        req.log.warn({ devices: devices.length }, 'device import abandoned: the client left before it was written')
        throw refuseFile('validation_failed', { code: 'import_abandoned', params: {} })
      }
      // Gateways first: the devices behind one may stand before it in the file.
      const order = devices.map((d, i) => ({ d, i })).sort((a, b) => Number(b.d.kind === 'gateway') - Number(a.d.kind === 'gateway'))
      try {
        await db.transaction(async (tx) => {
          for (const { d, i } of order) {
            const { expectedIntervalS, ...fields } = d
            await insertDevice(tx, { ...fields, secretHash: issued[i]?.secretHash ?? '', ...(expectedIntervalS === undefined ? {} : { expectedIntervalS }) })
          }
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw refuseFile('conflict', { code: 'import_conflict', params: {} })
        throw err
      }
      req.log.info({ devices: devices.length, gateways, by: req.principal?.name }, 'devices imported from CSV')
      const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')
      const rows = devices.map((d, i) => [d.id, issued[i]?.secret ?? '', d.id, topics.deviceTelemetry(d.id)])
      // no-store: it holds passwords.
      return sendCsv(reply, `device-secrets-${stamp}.csv`, ['id', 'secret', 'mqtt_username', 'telemetry_topic'], rows, { status: 201, noStore: true })
    },
  )
}

export default deviceImport
