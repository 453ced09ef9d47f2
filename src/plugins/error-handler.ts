import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { ShuttingDownError, SweepFailedError } from '../coordinator/errors.js'
import { InvalidAgentAddressError } from '../domain/agent-address.js'
import { InvalidKernelError } from '../domain/kernel-info.js'
import { HttpProblem, type ProblemType, sendProblem } from '../http/problem.js'
import { DatabaseUnavailableError } from '../persistence/database.js'
import { InvalidCursorError } from '../persistence/cursor.js'
import { BulkUpsertError, PreconditionFailedError } from '../persistence/kernel-repository.js'
import { LockBusyError, LockExpiredError } from '../persistence/locks/lock-factory.js'
import { PresenceUnavailableError } from '../presence/presence-store.js'

interface ValidationIssue {
  instancePath: string
  keyword: string
  message?: string
  params: Record<string, unknown>
}

/** "body/dry_run must be boolean", "body/dryrun is not allowed": the field is always named. */
function describeValidation (context: string, issue: ValidationIssue): string {
  const path = `${context}${issue.instancePath}`
  if (issue.keyword === 'additionalProperties') return `${path}/${String(issue.params['additionalProperty'])} is not allowed`
  if (issue.keyword === 'required') return `${path}/${String(issue.params['missingProperty'])} is required`
  if (issue.keyword === 'propertyNames') return `${path} has a key that ${issue.message ?? 'is not allowed'}`
  return `${path} ${issue.message ?? 'is invalid'}`
}

function unavailable (type: ProblemType, title: string, cause: Error, sweepId?: string): HttpProblem {
  return new HttpProblem(503, type, title, cause.message, sweepId === undefined ? {} : { sweep_id: sweepId })
}

/** Every error a route can meet, as the problem details an operator can act on; null for a fault of ours. */
export function toProblem (error: unknown, retryAfterSec: number): HttpProblem | null {
  if (error instanceof HttpProblem) return error
  const sweepId = error instanceof SweepFailedError ? error.sweepId : undefined
  const cause = error instanceof SweepFailedError ? error.cause : error
  if (cause instanceof LockBusyError) {
    return new HttpProblem(409, 'lock-busy', 'Sweep in progress', `scaling group ${cause.scope} is being swept; try again later`, {}, { 'retry-after': String(retryAfterSec) })
  }
  if (cause instanceof LockExpiredError) return unavailable('lock-expired', 'Sweep outlived its lock', cause, sweepId)
  if (cause instanceof PresenceUnavailableError) return unavailable('presence-unavailable', 'Presence store unavailable', cause, sweepId)
  if (cause instanceof DatabaseUnavailableError) return unavailable('database-unavailable', 'Database unavailable', cause, sweepId)
  if (cause instanceof ShuttingDownError) return unavailable('shutting-down', 'Service shutting down', cause, sweepId)
  if (cause instanceof PreconditionFailedError) return new HttpProblem(412, 'precondition-failed', 'Precondition failed', cause.message)
  if (cause instanceof BulkUpsertError || cause instanceof InvalidCursorError || cause instanceof InvalidKernelError || cause instanceof InvalidAgentAddressError) {
    return new HttpProblem(400, 'validation-error', 'Invalid request', cause.message)
  }
  const fastifyError = error as Partial<FastifyError>
  if (fastifyError.validation !== undefined) {
    const detail = describeValidation(fastifyError.validationContext ?? 'request', fastifyError.validation[0] as unknown as ValidationIssue)
    return new HttpProblem(400, 'validation-error', 'Invalid request', detail)
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem(413, 'body-too-large', 'Request body too large', fastifyError.message ?? 'body too large')
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new HttpProblem(414, 'uri-too-long', 'URI too long', 'a path parameter is longer than any valid value')
    case 'FST_ERR_BAD_URL':
      return new HttpProblem(400, 'bad-url', 'Bad URL', 'the URL could not be decoded')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', 'send application/json')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpProblem(400, 'malformed-json', 'Malformed JSON', fastifyError.message ?? 'the body is not valid JSON')
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new HttpProblem(fastifyError.statusCode, 'bad-request', 'Bad request', fastifyError.message ?? 'bad request')
  }
  return null
}

export interface ErrorHandlerOptions {
  /** What a `409` tells the client to wait (`Retry-After`). */
  readonly retryAfterSec: number
}

/** Problem details (RFC 9457) for every error and for unknown routes. */
export default fp<ErrorHandlerOptions>(async (fastify, options) => {
  fastify.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, options.retryAfterSec)
    if (problem !== null) {
      // A failed sweep was logged by the coordinator, with its sweep_id and cause, on this request's id.
      if (problem.status >= 500 && !(error instanceof SweepFailedError)) request.log.warn({ err: error }, problem.title)
      return sendProblem(reply, problem)
    }
    request.log.error({ err: error }, 'unexpected error')
    return sendProblem(reply, new HttpProblem(500, 'internal-error', 'Internal error', 'the service failed; see its logs'))
  })
  fastify.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new HttpProblem(404, 'not-found', 'Not found', `no route ${request.method} ${request.url.split('?')[0]}`)))
}, { name: 'error-handler' })
