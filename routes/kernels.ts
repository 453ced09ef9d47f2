import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { KernelStatusSchema, Kernel, KernelBulkUpsert, KernelIdParams, KernelPresence, KernelStatusChange, KernelUpsert, Name, problemResponses, LARGE_BODY_LIMIT, IfMatchHeaders, ETagHeader } from '../src/http/schemas.js'
import { versionETag, versionsFromIfMatch } from '../src/http/preconditions.js'
import { notFound } from '../src/http/problem.js'
import { requireBearerToken } from '../src/plugins/auth.js'
import { historyToWire, kernelFromWire, kernelToWire, presenceToWire } from '../src/http/wire.js'

/** The kernels the scheduler knows: what a sweep reads, and where its transitions land. */
const kernelsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  requireBearerToken(fastify)
  const { kernels, history } = fastify.persistence

  // The kernel's version is its ETag, so a client can replace it only as it last read it.
  const kernelWithETag = { ...Kernel, headers: ETagHeader }

  fastify.put('/v1/kernels/:kernel_id', {
    schema: {
      tags: ['kernels'],
      summary: 'Create or replace a kernel',
      description: 'A status change of an existing kernel is written to its history; creating one writes none. ' +
        'Any change raises the version; with `If-Match` the kernel is replaced only at the given version.',
      params: KernelIdParams,
      headers: IfMatchHeaders,
      body: KernelUpsert,
      response: { 200: kernelWithETag, ...problemResponses(400, 401, 412, 503) },
    },
  }, async (request, reply) => {
    const expectedVersions = versionsFromIfMatch(request.headers['if-match'])
    const kernel = await kernels.upsert({
      ...kernelFromWire({ kernel_id: request.params.kernel_id, ...request.body }),
      ...(expectedVersions === undefined ? {} : { expectedVersions }),
    })
    return reply.header('etag', versionETag(kernel.version)).send(kernelToWire(kernel))
  })

  fastify.put('/v1/kernels', {
    bodyLimit: LARGE_BODY_LIMIT,
    schema: {
      tags: ['kernels'],
      summary: 'Create or replace many kernels',
      description: '1 to 10,000 kernels in one transaction: all are written, or none. An entry with ' +
        '`expected_version` is only replaced at that version; if any is missing or at another, nothing is written (412).',
      body: KernelBulkUpsert,
      response: { 200: Type.Object({ upserted: Type.Integer() }), ...problemResponses(400, 401, 412, 413, 503) },
    },
  }, async (request) => {
    const upserted = await kernels.upsertMany(request.body.kernels.map((entry) => ({
      ...kernelFromWire(entry),
      ...(entry.expected_version === undefined ? {} : { expectedVersions: [entry.expected_version] }),
    })))
    return { upserted }
  })

  fastify.get('/v1/kernels/:kernel_id', {
    schema: {
      tags: ['kernels'],
      summary: 'Read a kernel',
      description: 'The kernel with its status, the bookkeeping of its last change and its version (also the ETag).',
      params: KernelIdParams,
      response: { 200: kernelWithETag, ...problemResponses(400, 401, 404, 503) },
    },
  }, async (request, reply) => {
    const kernel = await kernels.get(request.params.kernel_id.toLowerCase())
    if (kernel === null) throw notFound(`kernel ${request.params.kernel_id}`)
    return reply.header('etag', versionETag(kernel.version)).send(kernelToWire(kernel))
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
