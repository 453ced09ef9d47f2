import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { KernelStatusSchema, Kernel, KernelBulkUpsert, KernelIdParams, KernelPresence, KernelStatusChange, KernelUpsert, Name, problemResponses, LARGE_BODY_LIMIT } from '../src/http/schemas.js'
import { notFound } from '../src/http/problem.js'
import { requireBearerToken } from '../src/plugins/auth.js'
import { historyToWire, kernelFromWire, kernelToWire, presenceToWire } from '../src/http/wire.js'

/** The kernels the scheduler knows: what a sweep reads, and where its transitions land. */
const kernelsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  requireBearerToken(fastify)
  const { kernels, history } = fastify.persistence

  fastify.put('/v1/kernels/:kernel_id', {
    schema: {
      tags: ['kernels'],
      summary: 'Create or replace a kernel',
      description: 'A status change of an existing kernel is written to its history; creating one writes none.',
      params: KernelIdParams,
      body: KernelUpsert,
      response: { 200: Kernel, ...problemResponses(400, 401, 503) },
    },
  }, async (request) => {
    return kernelToWire(await kernels.upsert(kernelFromWire({ kernel_id: request.params.kernel_id, ...request.body })))
  })

  fastify.put('/v1/kernels', {
    bodyLimit: LARGE_BODY_LIMIT,
    schema: {
      tags: ['kernels'],
      summary: 'Create or replace many kernels',
      description: '1 to 10,000 kernels in one transaction: all are written, or none.',
      body: KernelBulkUpsert,
      response: { 200: Type.Object({ upserted: Type.Integer() }), ...problemResponses(400, 401, 413, 503) },
    },
  }, async (request) => {
    const records = await kernels.upsertMany(request.body.kernels.map(kernelFromWire))
    return { upserted: records.length }
  })

  fastify.get('/v1/kernels/:kernel_id', {
    schema: {
      tags: ['kernels'],
      summary: 'Read a kernel',
      description: 'The kernel with its status and the bookkeeping of its last change.',
      params: KernelIdParams,
      response: { 200: Kernel, ...problemResponses(400, 401, 404, 503) },
    },
  }, async (request) => {
    const kernel = await kernels.get(request.params.kernel_id.toLowerCase())
    if (kernel === null) throw notFound(`kernel ${request.params.kernel_id}`)
    return kernelToWire(kernel)
  })

  fastify.get('/v1/kernels', {
    schema: {
      tags: ['kernels'],
      summary: 'List kernels',
      description: 'In id order, a page at a time; pass `next_cursor` back as `cursor` for the next page.',
      querystring: Type.Object({
        scaling_group: Type.Optional(Name),
        status: Type.Optional(KernelStatusSchema),
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({ items: Type.Array(Kernel), next_cursor: Type.Union([Type.String(), Type.Null()]) }),
        ...problemResponses(400, 401, 503),
      },
    },
  }, async (request) => {
    const { scaling_group: scalingGroup, status, limit, cursor } = request.query
    const page = await kernels.list({
      limit,
      ...(scalingGroup === undefined ? {} : { scalingGroup }),
      ...(status === undefined ? {} : { status }),
      ...(cursor === undefined ? {} : { cursor }),
    })
    return { items: page.items.map(kernelToWire), next_cursor: page.nextCursor }
  })

  fastify.get('/v1/kernels/:kernel_id/history', {
    schema: {
      tags: ['kernels'],
      summary: 'Read a kernel\'s status history',
      description: 'Every status change, oldest first, with the sweep that made it (if any).',
      params: KernelIdParams,
      response: { 200: Type.Object({ items: Type.Array(KernelStatusChange) }), ...problemResponses(400, 401, 404, 503) },
    },
  }, async (request) => {
    const kernelId = request.params.kernel_id.toLowerCase()
    const [kernel, changes] = await Promise.all([kernels.get(kernelId), history.listForKernel(kernelId)])
    if (kernel === null) throw notFound(`kernel ${request.params.kernel_id}`)
    return { items: changes.map(historyToWire) }
  })

  fastify.get('/v1/kernels/:kernel_id/presence', {
    schema: {
      tags: ['kernels'],
      summary: 'Read a kernel\'s presence',
      description: 'The heartbeat as the presence store has it now (read-only: unlike a sweep, this records no check).',
      params: KernelIdParams,
      response: { 200: KernelPresence, ...problemResponses(400, 401, 404, 503) },
    },
  }, async (request) => {
    const kernelId = request.params.kernel_id.toLowerCase()
    if (await kernels.get(kernelId) === null) throw notFound(`kernel ${request.params.kernel_id}`)
    return presenceToWire(kernelId, await fastify.sweeper.presence.getKernelPresence(kernelId))
  })
}

export default kernelsRoutes
