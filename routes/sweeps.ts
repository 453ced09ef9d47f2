import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { notFound } from '../src/http/problem.js'
import { requireBearerToken } from '../src/plugins/auth.js'
import { useStrictJsonBodies } from '../src/plugins/strict-json-body.js'
import {
  LocationHeader, Name, problemResponses, ref, ScalingGroupParams, Sweep, SweepIdParams, SweepList, SweepRequest, type SweepWire,
} from '../src/http/schemas.js'
import { jsonStream, sweepJsonChunks, sweepListJsonChunks } from '../src/http/sweep-json.js'

const DEFAULT_LIMIT = 50
/** Sweeps are answered as streams (src/http/sweep-json.ts), which Fastify sends without a type of its own. */
const JSON_TYPE = 'application/json; charset=utf-8'

/** Trigger a sweep of a scaling group, and read sweeps back. */
const sweepsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  requireBearerToken(fastify)
  // An order with a repeated key (`"dry_run": true, "dry_run": false`) is ambiguous: 400, no sweep.
  useStrictJsonBodies(fastify)

  fastify.post('/v1/scaling-groups/:scaling_group/sweeps', {
    schema: {
      operationId: 'createSweep',
      tags: ['sweeps'],
      summary: 'Sweep a scaling group for stale kernels',
      description: 'Checks every RUNNING kernel of the group: presence in Valkey first, then, for the suspects, ' +
        'their own agent. Kernels their agent confirms dead move to TERMINATED, unless `dry_run` is set or the ' +
        'mass-termination guard trips (bypassed with `force`). Answers the recorded sweep.',
      params: ScalingGroupParams,
      body: ref(SweepRequest),
      'x-body-optional': true,
      response: {
        201: { ...ref(Sweep), description: 'The recorded sweep.', headers: LocationHeader },
        ...problemResponses(400, 401, 409, 413, 414, 415, 500, 503),
      },
    },
    // Every field is optional, so a request with no body at all is a plain sweep (a JSON null is
    // not "no body": it fails validation like any other non-object).
    preValidation: async (request) => {
      if (request.body === undefined) request.body = {}
    },
  }, async (request, reply) => {
    const { dry_run: dryRun = false, force = false } = request.body
    const sweep = await fastify.sweeper.coordinator.processKernelSchedule(
      fastify.sweeper.handler, request.params.scaling_group, { dryRun, force, requestId: request.id })
    return reply.code(201).header('location', `/v1/sweeps/${sweep.sweepId}`).type(JSON_TYPE).send(jsonStream<SweepWire>(sweepJsonChunks(sweep)))
  })

  fastify.get('/v1/sweeps/:sweep_id', {
    schema: {
      operationId: 'getSweep',
      tags: ['sweeps'],
      summary: 'Read a sweep',
      description: 'The sweep as it was answered when it ran (failed sweeps included, with their error).',
      params: SweepIdParams,
      response: { 200: { ...ref(Sweep), description: 'The sweep.' }, ...problemResponses(400, 401, 404, 414, 500, 503) },
    },
  }, async (request, reply) => {
    const sweep = await fastify.persistence.sweeps.get(request.params.sweep_id)
    if (sweep === null) throw notFound(`sweep ${request.params.sweep_id}`)
    return reply.type(JSON_TYPE).send(jsonStream<SweepWire>(sweepJsonChunks(sweep)))
  })

  fastify.get('/v1/sweeps', {
    schema: {
      operationId: 'listSweeps',
      tags: ['sweeps'],
      summary: 'List sweeps',
      description: 'Newest first, optionally of one scaling group.',
      querystring: Type.Object({
        scaling_group: Type.Optional(ref(Name)),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: DEFAULT_LIMIT })),
      }, { additionalProperties: false }),
      response: { 200: { ...ref(SweepList), description: 'The sweeps.' }, ...problemResponses(400, 401, 500, 503) },
    },
  }, async (request, reply) => {
    const { scaling_group: scalingGroup, limit = DEFAULT_LIMIT } = request.query
    const sweeps = await fastify.persistence.sweeps.list({ limit, ...(scalingGroup === undefined ? {} : { scalingGroup }) })
    return reply.type(JSON_TYPE).send(jsonStream<{ items: SweepWire[] }>(sweepListJsonChunks(sweeps)))
  })
}

export default sweepsRoutes
