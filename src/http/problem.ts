import type { FastifyReply } from 'fastify'

/** The stable `type` of every problem the service answers with (contract §3). */
export const ProblemType = {
  VALIDATION_ERROR: 'validation-error',
  MALFORMED_JSON: 'malformed-json',
  BAD_URL: 'bad-url',
  BAD_REQUEST: 'bad-request',
  UNAUTHORIZED: 'unauthorized',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not-found',
  LOCK_BUSY: 'lock-busy',
  PRECONDITION_FAILED: 'precondition-failed',
  CURSOR_EXPIRED: 'cursor-expired',
  BODY_TOO_LARGE: 'body-too-large',
  URI_TOO_LONG: 'uri-too-long',
  UNSUPPORTED_MEDIA_TYPE: 'unsupported-media-type',
  INTERNAL_ERROR: 'internal-error',
  PRESENCE_UNAVAILABLE: 'presence-unavailable',
  DATABASE_UNAVAILABLE: 'database-unavailable',
  LOCK_EXPIRED: 'lock-expired',
  SHUTTING_DOWN: 'shutting-down',
} as const

export type ProblemType = typeof ProblemType[keyof typeof ProblemType]

export const PROBLEM_MEDIA_TYPE = 'application/problem+json'

/** An answer in RFC 9457 problem details; `type` is the stable kind of the error. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem'

  constructor (
    readonly status: number,
    readonly type: ProblemType,
    readonly title: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {}
  ) {
    super(detail)
  }
}

export function notFound (what: string): HttpProblem {
  return new HttpProblem(404, ProblemType.NOT_FOUND, 'Not found', `${what} does not exist`)
}

export function sendProblem (reply: FastifyReply, problem: HttpProblem): FastifyReply {
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .type(PROBLEM_MEDIA_TYPE)
    .send({ type: problem.type, title: problem.title, status: problem.status, detail: problem.detail, ...problem.extensions })
}
