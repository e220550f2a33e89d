// "Simulate a fault" on a demo device (issue 21; intake/simulated-fault.ts says why and how): admins
// only, audited as devices.simulate_fault. The readings go through this process's ingest like a
// device's, so the answer comes after their commit and the rules engine raises the alert.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { idSchema } from '../../core/contract.ts'
import { AppError } from '../../core/errors.ts'
import { getDevice } from '../../core/repos/devices.ts'
import { checkSimulation, SIMULATED_FAULT_NAMES, SIMULATED_FAULTS, submitFault, type SimulatedFault } from '../../intake/simulated-fault.ts'
import { requireRole } from '../access.ts'
import { errorBody, errorResponses } from '../schemas.ts'

const faultName = z.enum(SIMULATED_FAULT_NAMES as [SimulatedFault, ...SimulatedFault[]])

const simulateFault: FastifyPluginAsyncZod = async (app) => {
  const { db, intake, settings } = app.deps
  const fetchDevice = async (id: string) => {
    const d = await getDevice(db, id)
    if (!d) throw new AppError('device_not_found', `No device "${id}"`)
    return d
  }

  app.get(
    '/:id/simulate-fault',
    {
      schema: {
        tags: ['devices'],
        summary: 'The faults an admin may simulate on this device (none, with the reason, when SIMULATE_FAULTS refuses)',
        params: z.object({ id: idSchema }),
        response: {
          200: z.object({
            faults: z.array(faultName).describe('Faults of this kind of device that can be simulated now'),
            refusal: z.string().nullable().describe('Why none can, when none can'),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      requireRole(req, 'admin')
      const d = await fetchDevice(req.params.id)
      const faults = SIMULATED_FAULT_NAMES.filter((f) => SIMULATED_FAULTS[f] === d.kind)
      try {
        for (const f of faults) checkSimulation(settings.simulateFaults, d, f)
      } catch (err) {
        if (err instanceof AppError) return { faults: [], refusal: err.message }
        throw err
      }
      return { faults, refusal: faults.length === 0 ? `No fault is simulated for ${d.kind.replace('_', ' ')} devices` : null }
    },
  )

  app.post(
    '/:id/simulate-fault',
    {
      schema: {
        tags: ['devices'],
        summary: 'Make a demo device report a fault, through the ingest like its own readings (admins)',
        description:
          'entrapment (elevator), cover_displaced (manhole) or low_level (fire tank, 90 s of readings under the reserve ending now). The readings are committed before the answer; the rules engine then raises the alert as for any device. Demo devices only unless SIMULATE_FAULTS=any; 403 `simulation_not_allowed` otherwise.',
        params: z.object({ id: idSchema }),
        body: z.object({ fault: faultName }),
        response: {
          200: z.object({ fault: faultName, stored: z.number().int().describe('Readings committed') }),
          503: errorBody,
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = requireRole(req, 'admin')
      const d = await fetchDevice(req.params.id)
      checkSimulation(settings.simulateFaults, d, req.body.fault)
      if (!intake) throw new AppError('unavailable', 'This API process does not ingest telemetry, so it cannot simulate a fault; use housing-brain fault')
      const r = await submitFault(intake.sink, d.id, req.body.fault, p.name)
      if (r.stored === 0) throw new AppError('telemetry_rejected', `The simulated readings were refused: ${r.rejections.map((x) => x.reason).join('; ')}`)
      req.auditOutcome = { fault: req.body.fault, stored: String(r.stored) }
      return { fault: req.body.fault, stored: r.stored }
    },
  )
}

export default simulateFault
