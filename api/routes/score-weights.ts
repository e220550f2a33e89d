// The score's weights as versioned data (issue 22; alerts/weights.ts): the office reads the
// versions and the one in force; an admin adds a version taking effect from a date. There is no
// update or delete: a version once made scores its periods for good.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { SCORE_COMPONENTS } from '../../alerts/score.ts'
import { builtInVersion, fromStored, versionAt, weightsProblems } from '../../alerts/weights.ts'
import { AppError } from '../../core/errors.ts'
import { insertWeightsVersion, latestEffectiveFrom, listWeightsVersions, MAX_VERSIONS } from '../../core/repos/score-weights.ts'
import { requireRole } from '../access.ts'
import { shapeVersion, versionSchema } from '../evaluation/version-schema.ts'
import { errorResponses, requestTime } from '../schemas.ts'

const scoreWeights: FastifyPluginAsyncZod = async (app) => {
  const { db, settings } = app.deps
  const builtIn = builtInVersion(settings.weights)

  app.get(
    '/weights',
    {
      schema: {
        tags: ['evaluation'],
        summary: "The score's weights versions, newest first, and the one in force at a time",
        description: `A period is scored by the version in force at its start. At most ${MAX_VERSIONS} stored versions are listed; the built-in version 0 ends the list.`,
        querystring: z.object({ at: requestTime.optional().describe('Default: now') }),
        response: { 200: z.object({ inForce: versionSchema, items: z.array(versionSchema) }), ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const versions = (await listWeightsVersions(db)).map(fromStored)
      return { inForce: shapeVersion(versionAt(versions, builtIn, req.query.at ?? new Date())), items: [...versions, builtIn].map(shapeVersion) }
    },
  )

  app.post(
    '/weights',
    {
      schema: {
        tags: ['evaluation'],
        summary: "Add a version of the score's weights, taking effect from a date",
        description: `Components: ${SCORE_COMPONENTS.join(', ')}; each weight 0–1, the weights summing to 1 (a component not named weighs 0). effectiveFrom must be later than every stored version's (409 weights_out_of_order). A version is never changed: make a new one.`,
        body: z.record(z.string(), z.unknown()).describe('{ effectiveFrom, weights: { component: weight }, note }'),
        response: { 201: versionSchema, 409: errorResponses[400], ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, 'admin')
      const checked = weightsProblems(req.body)
      if (!checked.ok) throw new AppError('validation_failed', checked.message)
      const v = checked.value
      const made = await insertWeightsVersion(db, { ...v, createdBy: p.name })
      if (!made) {
        const latest = await latestEffectiveFrom(db)
        throw new AppError('weights_out_of_order', `body.effectiveFrom: a version takes effect from ${latest?.toISOString() ?? 'a later time'} already; give a later effectiveFrom`)
      }
      return reply.code(201).send(shapeVersion(fromStored(made)))
    },
  )
}

export default scoreWeights
