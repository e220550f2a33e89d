// The error answer on the wire, as a schema for the routes' OpenAPI responses: the shape the error
// handler sends for every code of the catalogue (core/errors.ts). Below the services, so the HTTP
// receivers (intake/http/) and the API's routes (api/schemas.ts re-exports it) declare the same one.
import { z } from 'zod'

export const errorBody = z
  .object({
    code: z.string().describe('Stable machine-readable error code (see the error catalogue)'),
    message: z.string().describe('What went wrong and what to change'),
    details: z.unknown().optional(),
  })
  .describe('Error')

export const errorResponses = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  404: errorBody,
} as const
