import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { agentOfToken } from '../domain/agent-token.js'
import { HttpProblem, ProblemType } from '../http/problem.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route is agent `:agent_id`'s own (presence, reconcile): its agent token is accepted too. */
    agentTokenAllowed?: boolean
  }
  interface FastifyInstance {
    checkBearerToken: (request: FastifyRequest) => Promise<void>
  }
}

export interface AuthOptions {
  readonly apiToken: string | null
  /** The shared agent token of v1: good for every agent's routes. */
  readonly agentToken: string | null
  /** Signs per-agent tokens: agent A's is good for A's routes only. */
  readonly agentTokenSecret: string | null
}

// Hashing first makes both sides the same length, so the comparison time says nothing about
// how much of a guess was right.
const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

function matches (presented: string, expected: string | null): boolean {
  return expected !== null && timingSafeEqual(digest(presented), digest(expected))
}

/** The scheme, case-insensitive, one space, then the token: the whole rest of the header (contract §3). */
const BEARER = /^bearer (.+)$/i

const unauthorized = (): HttpProblem =>
  new HttpProblem(401, ProblemType.UNAUTHORIZED, 'Unauthorized', 'send Authorization: Bearer <token>', {}, { 'www-authenticate': 'Bearer' })

/** Bearer tokens per contract §3; with no `API_TOKEN` everything is open and a warning says so. */
export default fp<AuthOptions>(async (fastify, options) => {
  if (options.apiToken === null) fastify.log.warn('API_TOKEN is not set: the API accepts requests without authentication')
  if (options.agentToken !== null) {
    fastify.log.warn('AGENT_TOKEN is set: whoever holds it can report presence for every agent; give each agent its own token (AGENT_TOKEN_SECRET)')
  }

  fastify.decorate('checkBearerToken', async (request: FastifyRequest) => {
    if (options.apiToken === null) return
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1]
    if (token === undefined) throw unauthorized()
    if (matches(token, options.apiToken)) return
    if (request.routeOptions.config.agentTokenAllowed !== true) throw unauthorized()
    if (matches(token, options.agentToken)) return
    const agentId = options.agentTokenSecret === null ? null : agentOfToken(options.agentTokenSecret, token)
    if (agentId === null) throw unauthorized()
    // A genuine token of another agent: known, but not allowed to speak for this one.
    if (agentId !== (request.params as { agent_id?: string }).agent_id) {
      throw new HttpProblem(403, ProblemType.FORBIDDEN, 'Forbidden', `the token of agent ${agentId} is good for that agent's routes only`)
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
