import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  ETagHeader, IfMatchHeaders, Kernel, KernelBulkUpsert, KernelBulkUpsertResult, KernelHistory, KernelIdParams, KernelList,
  KernelPresence, KernelStatus, KernelUpsert, LARGE_BODY_LIMIT, Name, problemResponses, ref,
} from '../src/http/schemas.js'
import { versionETag, versionsFromIfMatch } from '../src/http/preconditions.js'
import { notFound } from '../src/http/problem.js'
import { requireBearerToken } from '../src/plugins/auth.js'
import { historyToWire, kernelFromWire, kernelToWire, presenceToWire } from '../src/http/wire.js'

const DEFAULT_LIMIT = 100

/** The kernels the scheduler knows: what a sweep reads, and where its transitions land. */
const kernelsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  requireBearerToken(fastify)
  const { kernels, history } = fastify.persistence

  // The kernel's version is its ETag, so a client can replace it only as it last read it.
  const kernelWithETag = { ...ref(Kernel), description: 'The kernel.', headers: ETagHeader }

  fastify.put('/v1/kernels/:kernel_id', {
    schema: {
      operationId: 'upsertKernel',
      tags: ['kernels'],
      summary: 'Create or replace a kernel',
      description: 'A status change of an existing kernel is written to its history; creating one writes none. ' +
        'Any change raises the version; with `If-Match` the kernel is replaced only at the given version.',
      params: KernelIdParams,
      headers: IfMatchHeaders,
      body: ref(KernelUpsert),
      response: { 200: kernelWithETag, ...problemResponses(400, 401, 412, 413, 414, 415, 500, 503) },
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
      operationId: 'upsertKernels',
      tags: ['kernels'],
      summary: 'Create or replace many kernels',
      description: '1 to 10,000 kernels in one transaction: all are written, or none. An entry with ' +
        '`expected_version` is only replaced at that version; if any is missing or at another, nothing is written (412).',
      body: ref(KernelBulkUpsert),
      response: { 200: { ...ref(KernelBulkUpsertResult), description: 'How many were written.' }, ...problemResponses(400, 401, 412, 413, 415, 500, 503) },
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
      operationId: 'getKernel',
      tags: ['kernels'],
      summary: 'Read a kernel',
      description: 'The kernel with its status, the bookkeeping of its last change and its version (also the ETag).',
      params: KernelIdParams,
      response: { 200: kernelWithETag, ...problemResponses(400, 401, 404, 414, 500, 503) },
    },
  }, async (request, reply) => {
    const kernel = await kernels.get(request.params.kernel_id.toLowerCase())
    if (kernel === null) throw notFound(`kernel ${request.params.kernel_id}`)
    return reply.header('etag', versionETag(kernel.version)).send(kernelToWire(kernel))
  })

  fastify.get('/v1/kernels', {
    schema: {
      operationId: 'listKernels',
      tags: ['kernels'],
      summary: 'List kernels',
      description: 'In id order, a page at a time; pass `next_cursor` back as `cursor` for the next page. ' +
        'Filtered by scaling group, status and agent, each optional.',
      querystring: Type.Object({
        scaling_group: Type.Optional(ref(Name)),
        status: Type.Optional(ref(KernelStatus)),
        agent_id: Type.Optional(ref(Name)),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_LIMIT })),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }, { additionalProperties: false }),
      response: { 200: { ...ref(KernelList), description: 'A page of kernels.' }, ...problemResponses(400, 401, 500, 503) },
    },
  }, async (request) => {
    const { scaling_group: scalingGroup, status, agent_id: agentId, limit = DEFAULT_LIMIT, cursor } = request.query
    const page = await kernels.list({
      limit,
      ...(scalingGroup === undefined ? {} : { scalingGroup }),
      ...(status === undefined ? {} : { status }),
      ...(agentId === undefined ? {} : { agentId }),
      ...(cursor === undefined ? {} : { cursor }),
    })
    return { items: page.items.map(kernelToWire), next_cursor: page.nextCursor }
  })

  fastify.get('/v1/kernels/:kernel_id/history', {
    schema: {
      operationId: 'getKernelHistory',
      tags: ['kernels'],
      summary: 'Read a kernel\'s status history',
      description: 'Every status change, oldest first, with the sweep that made it (if any).',
      params: KernelIdParams,
      response: { 200: { ...ref(KernelHistory), description: 'The status changes.' }, ...problemResponses(400, 401, 404, 414, 500, 503) },
    },
  }, async (request) => {
    const kernelId = request.params.kernel_id.toLowerCase()
    const [kernel, changes] = await Promise.all([kernels.get(kernelId), history.listForKernel(kernelId)])
    if (kernel === null) throw notFound(`kernel ${request.params.kernel_id}`)
    return { items: changes.map(historyToWire) }
  })

  fastify.get('/v1/kernels/:kernel_id/presence', {
    schema: {
      operationId: 'getKernelPresence',
      tags: ['kernels'],
      summary: 'Read a kernel\'s presence',
      description: 'The heartbeat as the presence store has it now (read-only: unlike a sweep, this records no check).',
      params: KernelIdParams,
      response: { 200: { ...ref(KernelPresence), description: 'The presence.' }, ...problemResponses(400, 401, 404, 414, 500, 503) },
    },
  }, async (request) => {
    const kernelId = request.params.kernel_id.toLowerCase()
    if (await kernels.get(kernelId) === null) throw notFound(`kernel ${request.params.kernel_id}`)
    return presenceToWire(kernelId, await fastify.sweeper.presence.getKernelPresence(kernelId))
  })
}

export default kernelsRoutes
