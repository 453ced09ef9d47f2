import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Agent, AgentIdParams, AgentRegistration, LARGE_BODY_LIMIT, PresenceReport, problemResponses, ref } from '../src/http/schemas.js'
import { notFound } from '../src/http/problem.js'
import { requireBearerToken } from '../src/plugins/auth.js'
import { agentToWire } from '../src/http/wire.js'

/** Agents: where to ask about their kernels, and the heartbeats they send. */
const agentsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  requireBearerToken(fastify)
  const { agents } = fastify.persistence

  fastify.put('/v1/agents/:agent_id', {
    schema: {
      operationId: 'registerAgent',
      tags: ['agents'],
      summary: 'Register an agent',
      description: 'Where the agent answers `GET /v1/kernels/{kernel_id}/running`; registering again moves it.',
      params: AgentIdParams,
      body: ref(AgentRegistration),
      response: { 200: { ...ref(Agent), description: 'The agent as registered.' }, ...problemResponses(400, 401, 413, 414, 415, 500, 503) },
    },
  }, async (request) => {
    const { address, scaling_group: scalingGroup } = request.body
    return agentToWire(await agents.upsert({ id: request.params.agent_id, address, scalingGroup }))
  })

  fastify.get('/v1/agents/:agent_id', {
    schema: {
      operationId: 'getAgent',
      tags: ['agents'],
      summary: 'Read an agent',
      description: 'The agent\'s registration.',
      params: AgentIdParams,
      response: { 200: { ...ref(Agent), description: 'The agent.' }, ...problemResponses(400, 401, 404, 414, 500, 503) },
    },
  }, async (request) => {
    const agent = await agents.get(request.params.agent_id)
    if (agent === null) throw notFound(`agent ${request.params.agent_id}`)
    return agentToWire(agent)
  })

  fastify.post('/v1/agents/:agent_id/presence', {
    bodyLimit: LARGE_BODY_LIMIT,
    config: { agentTokenAllowed: true },
    schema: {
      operationId: 'reportPresence',
      tags: ['agents'],
      summary: 'Report kernel heartbeats',
      description: 'Writes each kernel\'s presence as a Backend.AI agent writes it to Valkey. No database lookup: ' +
        'any well-formed kernel id is accepted. Accepts AGENT_TOKEN as well as API_TOKEN.',
      params: AgentIdParams,
      body: ref(PresenceReport),
      response: { 204: { type: 'null', description: 'Written.' }, ...problemResponses(400, 401, 413, 414, 415, 500, 503) },
    },
  }, async (request, reply) => {
    const presence = new Map(Object.entries(request.body.kernels).map(([kernelId, running]) => [kernelId.toLowerCase(), running]))
    await fastify.sweeper.presence.updateKernelPresenceBatch(presence)
    return reply.code(204).send(null)
  })
}

export default agentsRoutes
