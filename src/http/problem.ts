import type { FastifyReply } from 'fastify'

/** An answer in RFC 9457 problem details; `type` is the stable kind of the error. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem'

  constructor (
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {}
  ) {
    super(detail)
  }
}

export function notFound (what: string): HttpProblem {
  return new HttpProblem(404, 'not-found', 'Not found', `${what} does not exist`)
}

export function sendProblem (reply: FastifyReply, problem: HttpProblem): FastifyReply {
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .type('application/problem+json')
    .send({ type: problem.type, title: problem.title, status: problem.status, detail: problem.detail, ...problem.extensions })
}
