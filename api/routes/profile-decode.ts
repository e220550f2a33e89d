// "Try the decoder": a payload pasted by an operator (hex, base64 or JSON, with its fPort) through
// a device profile's decoder — a stored one, or a definition being edited and not yet saved — with
// the readings it gives or the reason it fails, as a device's payload would be dead-lettered.
//
// Same code, same limits as the ingest (core/decoders/decode.ts, DEFAULT_SANDBOX_LIMITS), but a
// sandbox of its own: a try-out that loops for its 650 ms does not hold up live devices' payloads
// in the ingest's worker. Its queue is short; past it a try-out is refused at once.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../../core/errors.ts'
import { decodePayload } from '../../core/decoders/decode.ts'
import { DecoderSandbox, DEFAULT_SANDBOX_LIMITS } from '../../core/decoders/sandbox.ts'
import { profileSchema } from '../../core/profiles/schema.ts'
import { getProfile } from '../../core/repos/profiles.ts'
import { describeIssues } from '../../rules/definitions.ts'
import { requireRole } from '../access.ts'
import { errorResponses } from '../schemas.ts'

/** Try-outs waiting for the sandbox; more are refused (a person presses the button, not a fleet). */
const TRY_QUEUE = 8
const MAX_PAYLOAD_CHARS = 16 * 1024

const trial = {
  payload: z.string().max(MAX_PAYLOAD_CHARS).describe('The payload as the device sends it, written as `encoding` says'),
  encoding: z.enum(['hex', 'base64', 'json']).describe('hex (spaces allowed), base64, or JSON text (a DTU or a platform message)'),
  fPort: z.number().int().min(0).max(255).optional().describe('LoRaWAN port (input.fPort); default 1'),
}

const decoded = z.union([
  z.object({
    ok: z.literal(true),
    readings: z.array(z.object({ ts: z.number().optional().describe('Epoch ms, when the payload carries its time'), values: z.record(z.string(), z.union([z.number(), z.boolean()])) })),
    warnings: z.array(z.string()),
  }),
  z.object({ ok: z.literal(false), reason: z.string().describe('What a dead letter of this payload would say') }),
])

/** The bytes of a pasted payload, or what is wrong with how it is written. */
function bytesOf(payload: string, encoding: 'hex' | 'base64' | 'json'): { bytes: Buffer; json?: unknown } {
  const text = payload.trim()
  if (encoding === 'hex') {
    const hex = text.replace(/^0x/i, '').replace(/[\s:-]/g, '')
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new AppError('validation_failed', 'body.payload: not hexadecimal bytes (pairs of 0–9, A–F; spaces allowed), e.g. 01 75 64')
    return { bytes: Buffer.from(hex, 'hex') }
  }
  if (encoding === 'base64') {
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text.replace(/\s/g, ''))) throw new AppError('validation_failed', 'body.payload: not base64 text (A–Z, a–z, 0–9, + / or - _, = padding)')
    return { bytes: Buffer.from(text, 'base64') }
  }
  try {
    return { bytes: Buffer.from(text, 'utf8'), json: JSON.parse(text) as unknown }
  } catch (err) {
    throw new AppError('validation_failed', `body.payload: not JSON (${err instanceof Error ? err.message : String(err)})`)
  }
}

const profileDecode: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.deps
  const sandbox = new DecoderSandbox({ ...DEFAULT_SANDBOX_LIMITS, maxQueued: TRY_QUEUE })
  app.addHook('onClose', () => sandbox.stop())

  const run = async (definition: unknown, body: { payload: string; encoding: 'hex' | 'base64' | 'json'; fPort?: number | undefined }) => {
    const parsed = profileSchema.safeParse(definition)
    if (!parsed.success) throw new AppError('validation_failed', describeIssues(parsed.error).map((m) => `body.definition.${m}`).join('; '))
    const { decoder, variables } = parsed.data
    if (!decoder) return { ok: false as const, reason: 'the profile has no decoder: its devices send the telemetry contract as it is' }
    const { bytes, json } = bytesOf(body.payload, body.encoding)
    const out = await decodePayload({ decoder, variables }, { bytes, ...(json === undefined ? {} : { json }), fPort: body.fPort, receivedAt: Date.now() }, sandbox)
    return out.ok ? { ok: true as const, readings: out.entries, warnings: out.warnings } : { ok: false as const, reason: out.reason }
  }

  app.post(
    '/:id/decode',
    {
      schema: {
        tags: ['profiles'],
        summary: "Try a stored profile's decoder on a payload: the readings, or why it would be dead-lettered",
        params: z.object({ id: z.string().min(1).max(64) }),
        body: z.object(trial),
        response: { 200: decoded, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      const stored = await getProfile(db, req.params.id)
      if (!stored) throw new AppError('not_found', `No device profile "${req.params.id}"`)
      return run(stored.definition, req.body)
    },
  )

  app.post(
    '/decode',
    {
      schema: {
        tags: ['profiles'],
        summary: 'Try an unsaved profile definition on a payload (the editor\'s "try the decoder")',
        body: z.object({ ...trial, definition: z.record(z.string(), z.unknown()).describe('A device profile as POST /api/v1/profiles takes it') }),
        response: { 200: decoded, ...errorResponses },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'operator')
      return run(req.body.definition, req.body)
    },
  )
}

export default profileDecode
