import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const HealthResponse = Type.Object({ status: Type.Literal('ok') }, { $id: 'Health' })

/** Liveness for orchestrators: answers while the process lives, touching no dependency. */
const operationsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/healthz', {
    schema: {
      tags: ['operations'],
      summary: 'Liveness',
      description: 'Answers 200 while the process lives; checks no dependency.',
      response: { 200: HealthResponse },
    },
  }, async () => ({ status: 'ok' as const }))
}

export default operationsRoutes
