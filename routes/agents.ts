import { Type, type FastifyPluginAsyncTypebox, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import {
  Agent, AgentIdParams, AgentList, AgentRegistration, AgentStatus, DecommissionRequest, LARGE_BODY_LIMIT, LocationHeader, Name,
  PresenceReport, problemResponses, ReconcileRequest, Reconciliation, ref, Sweep,
} from '../src/http/schemas.js'
import { normaliseAgentAddress } from '../src/domain/agent-address.js'
import { notFound } from '../src/http/problem.js'
import { requireBearerToken } from '../src/plugins/auth.js'
import { useStrictJsonBodies } from '../src/plugins/strict-json-body.js'
import { agentToWire, sweepToWire } from '../src/http/wire.js'

const DEFAULT_LIMIT = 100

/** Agents: where to ask about their kernels, the heartbeats they send, their reconciliation and decommissioning. */
const agentsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  requireBearerToken(fastify)
  const { agents, kernels } = fastify.persistence

  fastify.put('/v1/agents/:agent_id', {
    schema: {
      operationId: 'registerAgent',
      tags: ['agents'],
      summary: 'Register an agent',
      description: 'Where the agent answers `POST /v1/kernels/running` (or, for older agents, ' +
        '`GET /v1/kernels/{kernel_id}/running`); registering again moves it, and makes it ALIVE: what sweeps learned ' +
        'of its reachability and of its routes, and a decommissioning, are forgotten. The address is stored as its origin ' +
        '(`http(s)://host:port`); one with credentials, a path, an invalid port, a link-local, metadata, multicast or ' +
        'unspecified IP, or (with `AGENT_ADDRESS_ALLOW` set) outside the allowed blocks is refused.',
      params: AgentIdParams,
      body: ref(AgentRegistration),
      response: { 200: { ...ref(Agent), description: 'The agent as registered.' }, ...problemResponses(400, 401, 413, 414, 415, 500, 503) },
    },
  }, async (request) => {
    const { address, scaling_group: scalingGroup } = request.body
    // Stored as the origin the sweeper will call, or refused (400) before anything is written.
    const origin = normaliseAgentAddress(address, fastify.sweeper.agentAddressAllow)
    const agent = await agents.upsert({ id: request.params.agent_id, address: origin, scalingGroup })
    // Maybe moved, maybe upgraded: the next sweep looks its address up again and tries the batch route.
    fastify.sweeper.agentClients.forget(agent.id)
    return agentToWire(agent)
  })

  fastify.get('/v1/agents/:agent_id', {
    schema: {
      operationId: 'getAgent',
      tags: ['agents'],
      summary: 'Read an agent',
      description: 'The agent\'s registration, and its status as the sweeps found it.',
      params: AgentIdParams,
      response: { 200: { ...ref(Agent), description: 'The agent.' }, ...problemResponses(400, 401, 404, 414, 500, 503) },
    },
  }, async (request) => {
    const agent = await agents.get(request.params.agent_id)
    if (agent === null) throw notFound(`agent ${request.params.agent_id}`)
    return agentToWire(agent)
  })

  fastify.get('/v1/agents', {
    schema: {
      operationId: 'listAgents',
      tags: ['agents'],
      summary: 'List agents',
      description: 'In id order, a page at a time; pass `next_cursor` back as `cursor` for the next page. ' +
        'Filtered by scaling group and status, each optional.',
      querystring: Type.Object({
        scaling_group: Type.Optional(ref(Name)),
        status: Type.Optional(ref(AgentStatus)),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_LIMIT })),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }, { additionalProperties: false }),
      response: { 200: { ...ref(AgentList), description: 'A page of agents.' }, ...problemResponses(400, 401, 500, 503) },
    },
  }, async (request) => {
    const { scaling_group: scalingGroup, status, limit = DEFAULT_LIMIT, cursor } = request.query
    const page = await agents.list({
      limit,
      ...(scalingGroup === undefined ? {} : { scalingGroup }),
      ...(status === undefined ? {} : { status }),
      ...(cursor === undefined ? {} : { cursor }),
    })
    return { items: page.items.map(agentToWire), next_cursor: page.nextCursor }
  })

  fastify.post('/v1/agents/:agent_id/presence', {
    bodyLimit: LARGE_BODY_LIMIT,
    config: { agentTokenAllowed: true },
    schema: {
      operationId: 'reportPresence',
      tags: ['agents'],
      summary: 'Report kernel heartbeats',
      description: 'Writes each kernel\'s presence as a Backend.AI agent writes it to Valkey, naming the agent: a ' +
        'heartbeat vouches only for the agent\'s own kernels, so a kernel of another agent reported here is still asked ' +
        'about. No database lookup: any well-formed kernel id is accepted. Accepts AGENT_TOKEN as well as API_TOKEN.',
      params: AgentIdParams,
      body: ref(PresenceReport),
      response: { 204: { type: 'null', description: 'Written.' }, ...problemResponses(400, 401, 403, 413, 414, 415, 500, 503) },
    },
  }, async (request, reply) => {
    const presence = new Map(Object.entries(request.body.kernels).map(([kernelId, running]) => [kernelId.toLowerCase(), running]))
    // Written with the route's agent: its heartbeats vouch only for its own kernels (contract §4).
    await fastify.sweeper.presence.updateKernelPresenceBatch(request.params.agent_id, presence)
    return reply.code(204).send(null)
  })

  fastify.post('/v1/agents/:agent_id/reconcile', {
    bodyLimit: LARGE_BODY_LIMIT,
    config: { agentTokenAllowed: true },
    schema: {
      operationId: 'reconcileAgent',
      tags: ['agents'],
      summary: 'Reconcile what an agent runs with what the service knows',
      description: 'The agent lists every kernel it runs. `orphans`: those it should stop (unknown to the service, in a ' +
        'final status, or assigned to another agent); `missing`: its own kernels in a non-final status that it did not ' +
        'list. Read-only: nothing is changed. Accepts AGENT_TOKEN as well as API_TOKEN.',
      params: AgentIdParams,
      body: ref(ReconcileRequest),
      response: { 200: { ...ref(Reconciliation), description: 'What the agent should stop, and what it should run but does not.' }, ...problemResponses(400, 401, 403, 404, 413, 414, 415, 500, 503) },
    },
  }, async (request) => {
    const agentId = request.params.agent_id
    if (await agents.get(agentId) === null) throw notFound(`agent ${agentId}`)
    // One spelling per kernel (contract: ids in lower case), each once, in the order first listed.
    const listed = [...new Set(request.body.kernels.map((kernelId) => kernelId.toLowerCase()))]
    return kernels.reconcile(agentId, listed)
  })

  // Only here are bodies held to "no repeated key": an ambiguous decommissioning order never runs
  // for real. The presence and reconcile routes above, with their 8 MiB bodies, keep the plain parser.
  await fastify.register(async (child) => {
    useStrictJsonBodies(child)
    const strict = child.withTypeProvider<TypeBoxTypeProvider>()

    strict.post('/v1/agents/:agent_id/decommission', {
      schema: {
        operationId: 'decommissionAgent',
        tags: ['agents'],
        summary: 'Decommission an agent',
        description: 'A recorded sweep of handler `decommission-agent` in the agent\'s scaling group, under its lock: every ' +
          'kernel of the agent in a non-final status moves to TERMINATED with reason AGENT_DECOMMISSIONED, neither presence ' +
          'nor the agent being asked. `dry_run` and the mass-termination guard (bypassed with `force`) work as in a sweep. ' +
          'Once the sweep completes the agent is DECOMMISSIONED and never asked again until registered anew.',
        params: AgentIdParams,
        body: ref(DecommissionRequest),
        'x-body-optional': true,
        response: {
          201: { ...ref(Sweep), description: 'The recorded sweep.', headers: LocationHeader },
          ...problemResponses(400, 401, 404, 409, 413, 414, 415, 500, 503),
        },
      },
      // Every field is optional: no body at all is a plain decommissioning (a JSON null is not
      // "no body" and fails validation).
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {}
      },
    }, async (request, reply) => {
      const agentId = request.params.agent_id
      const agent = await agents.get(agentId)
      if (agent === null) throw notFound(`agent ${agentId}`)
      const { dry_run: dryRun = false, force = false } = request.body
      const sweep = await fastify.sweeper.coordinator.processKernelSchedule(
        fastify.sweeper.decommissionHandler(agentId), agent.scalingGroup, { dryRun, force, requestId: request.id })
      return reply.code(201).header('location', `/v1/sweeps/${sweep.sweepId}`).send(sweepToWire(sweep))
    })
  })
}

export default agentsRoutes
