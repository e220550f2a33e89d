// `housing-brain fault --device ID --fault NAME`: the device page's "simulate a fault" from the shell
// (intake/simulated-fault.ts). The readings go through an ingest of this process — the same checks,
// commit and feed as a device's — so the rules engine of the running system raises the alert. The
// audit log records it as the admin action would, under the actor "housing-brain fault".
import { parseArgs } from 'node:util'
import { randomUUID } from 'node:crypto'
import { AppError, UsageError } from '../core/errors.ts'
import { createMetrics } from '../core/metrics.ts'
import { insertAudit } from '../core/repos/audit.ts'
import { getDevice } from '../core/repos/devices.ts'
import { IngestService } from '../ingest/service.ts'
import { checkSimulation, SIMULATED_FAULT_NAMES, SIMULATED_FAULTS, submitFault, type SimulatedFault } from '../intake/simulated-fault.ts'
import type { CommandContext } from './context.ts'
import { openDatabase } from './stack.ts'

const USAGE = `housing-brain fault --device ID --fault ${SIMULATED_FAULT_NAMES.join('|')}
  ${SIMULATED_FAULT_NAMES.map((f) => `${f} (${SIMULATED_FAULTS[f].replace('_', ' ')})`).join(', ')}; demo devices only unless SIMULATE_FAULTS=any`

const ACTOR = 'housing-brain fault'

export async function faultCommand(ctx: CommandContext): Promise<void> {
  const { values } = parseArgs({ args: ctx.args, options: { device: { type: 'string' }, fault: { type: 'string' } } })
  const fault = values.fault as SimulatedFault | undefined
  if (!values.device || !fault || !SIMULATED_FAULT_NAMES.includes(fault)) throw new UsageError(`usage:\n${USAGE}`)
  const { db } = await openDatabase(ctx.cfg, ctx.log, ACTOR, true)
  const ingest = new IngestService(db, ctx.cfg.ingest, ctx.log, createMetrics({ defaults: false }))
  try {
    const device = await getDevice(db, values.device)
    if (!device) throw new UsageError(`no device "${values.device}"`)
    try {
      checkSimulation(ctx.cfg.api.simulateFaults, device, fault)
    } catch (err) {
      if (err instanceof AppError) throw new UsageError(err.message)
      throw err
    }
    await ingest.start()
    const r = await submitFault(ingest.pipeline, device.id, fault, ACTOR)
    if (r.stored === 0) throw new UsageError(`the readings were refused: ${r.rejections.map((x) => x.reason).join('; ')}`)
    const route = '/api/v1/devices/:id/simulate-fault'
    await insertAudit(db, {
      actorId: ACTOR, actorName: ACTOR, actorRole: 'admin', companyId: null, action: 'devices.simulate_fault', method: 'POST', route,
      target: { id: device.id, fault, stored: String(r.stored) }, query: null, body: { fault }, status: 200, requestId: randomUUID(), ip: null,
    })
    console.log(`${device.id}: ${fault} reported (${r.stored} reading(s) committed); the rules engine raises the alert`)
  } finally {
    await ingest.stop()
    await db.close()
  }
}
