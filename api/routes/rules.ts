// Rules as data: list, read, create, replace, delete. Definitions are validated by the same schema
// the engine runs them with; an invalid one is refused with every problem and what to fix.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Db } from '../../core/db/client.ts'
import { AppError } from '../../core/errors.ts'
import { getDevice } from '../../core/repos/devices.ts'
import { deleteRule, getRule, listRules, ruleRow, upsertRule, type StoredRule } from '../../core/repos/rules.ts'
import { describeIssues, ruleDefinitionSchema, ruleProblems, type RuleDefinition } from '../../rules/definitions.ts'
import { companyScope, requireRole } from '../access.ts'
import { errorResponses, timestamp } from '../schemas.ts'

const ruleResponse = z.object({
  id: z.string(),
  definition: z.record(z.string(), z.unknown()).describe('The rule as stored: durations in milliseconds'),
  enabled: z.boolean(),
  builtin: z.boolean().describe('From the default catalogue; deleting it disables it'),
  createdAt: timestamp,
  updatedAt: timestamp,
})

/** Validates a posted definition; a rule scoped to one device is checked against that device's kind. */
async function validate(db: Db, input: unknown): Promise<RuleDefinition> {
  const parsed = ruleDefinitionSchema.safeParse(input)
  if (!parsed.success) throw new AppError('validation_failed', describeIssues(parsed.error).map((m) => `body.${m}`).join('; '))
  const rule = parsed.data
  if (rule.scope.kind === undefined && rule.scope.deviceId !== undefined) {
    const device = await getDevice(db, rule.scope.deviceId)
    if (!device) throw new AppError('validation_failed', `body.scope.deviceId: no device "${rule.scope.deviceId}"`)
    const problems = ruleProblems(rule, device.kind)
    if (problems.length > 0) throw new AppError('validation_failed', problems.map((m) => `body.${m}`).join('; '))
  }
  return rule
}

const rules: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  app.get(
    '',
    { schema: { tags: ['rules'], summary: 'All rules', response: { 200: z.object({ items: z.array(ruleResponse) }), ...errorResponses } } },
    async (req) => {
      // A crew member sees the district-wide rules and their own company's, not another's.
      const p = requireRole(req, 'admin', 'operator', 'crew', 'service')
      return { items: await listRules(db, companyScope(p)) }
    },
  )

  const idParams = z.object({ id: z.string().min(1).max(64) })
  const mustGet = async (id: string, companyId?: string): Promise<StoredRule> => {
    const rule = await getRule(db, id, companyId)
    if (!rule) throw new AppError('not_found', `No rule "${id}"`)
    return rule
  }

  app.get(
    '/:id',
    { schema: { tags: ['rules'], summary: 'One rule', params: idParams, response: { 200: ruleResponse, ...errorResponses } } },
    async (req) => {
      return mustGet(req.params.id, companyScope(requireRole(req, 'admin', 'operator', 'crew', 'service')))
    },
  )

  app.post(
    '',
    {
      schema: {
        tags: ['rules'],
        summary: 'Create a rule (threshold, count, rate, nodata or forecast)',
        description: 'Durations may be written as "30s", "5m", "1h" or milliseconds. The engine picks the rule up within a minute.',
        body: z.record(z.string(), z.unknown()).describe('A rule definition; see the README "Rules"'),
        response: { 201: ruleResponse, 409: errorResponses[400], ...errorResponses },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin', 'operator')
      const rule = await validate(db, req.body)
      if (await getRule(db, rule.id)) throw new AppError('conflict', `A rule "${rule.id}" exists; PUT /api/v1/rules/${rule.id} replaces it`)
      await upsertRule(db, ruleRow(rule))
      return reply.code(201).send(await mustGet(rule.id))
    },
  )

  app.put(
    '/:id',
    {
      schema: {
        tags: ['rules'],
        summary: 'Replace a rule',
        params: idParams,
        body: z.record(z.string(), z.unknown()),
        response: { 200: ruleResponse, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const rule = await validate(db, { ...req.body, id: req.params.id })
      await upsertRule(db, ruleRow(rule))
      return mustGet(rule.id)
    },
  )

  app.delete(
    '/:id',
    {
      schema: {
        tags: ['rules'],
        summary: 'Delete a rule (a built-in one is disabled instead, so a restart does not bring it back)',
        params: idParams,
        response: { 200: ruleResponse, 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin', 'operator')
      const existing = await mustGet(req.params.id)
      if (existing.builtin) {
        const rule = await validate(db, { ...existing.definition, enabled: false })
        await upsertRule(db, ruleRow(rule))
        return mustGet(existing.id)
      }
      await deleteRule(db, existing.id)
      return reply.code(204).send(null)
    },
  )
}

export default rules
