import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { HttpProblem } from '../http/problem.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route also accepts `AGENT_TOKEN` (the presence route). */
    agentTokenAllowed?: boolean
  }
  interface FastifyInstance {
    checkBearerToken: (request: FastifyRequest) => Promise<void>
  }
}

export interface AuthOptions {
  readonly apiToken: string | null
  readonly agentToken: string | null
}

// Hashing first makes both sides the same length, so the comparison time says nothing about
// how much of a guess was right.
const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

function matches (presented: string, expected: string | null): boolean {
  return expected !== null && timingSafeEqual(digest(presented), digest(expected))
}

/** Bearer tokens per contract §3; with no `API_TOKEN` everything is open and a warning says so. */
export default fp<AuthOptions>(async (fastify, options) => {
  if (options.apiToken === null) fastify.log.warn('API_TOKEN is not set: the API accepts requests without authentication')

  fastify.decorate('checkBearerToken', async (request: FastifyRequest) => {
    if (options.apiToken === null) return
    const [scheme, token] = (request.headers.authorization ?? '').split(' ')
    const agentAllowed = request.routeOptions.config.agentTokenAllowed === true
    const accepted = scheme?.toLowerCase() === 'bearer' && token !== undefined &&
      (matches(token, options.apiToken) || (agentAllowed && matches(token, options.agentToken)))
    if (!accepted) {
      throw new HttpProblem(401, 'unauthorized', 'Unauthorized', 'send Authorization: Bearer <token>', {}, { 'www-authenticate': 'Bearer' })
    }
  })
}, { name: 'auth' })

/** Puts every route declared after it in this plugin behind the bearer token, in the OpenAPI document too. */
export function requireBearerToken (fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, security: [{ bearer: [] }] }
  })
  fastify.addHook('onRequest', fastify.checkBearerToken)
}
