import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Health, Readiness, ref } from '../src/http/schemas.js'

const CHECK_TIMEOUT_MS = 1_000

/** "ok", or why not, within a short bound: a readiness probe must not hang on a hung store. */
async function check (probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string>((resolve) => { timer = setTimeout(() => { resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`) }, CHECK_TIMEOUT_MS) })
  try {
    return await Promise.race([probe().then(() => 'ok', (error: unknown) => (error as Error).message || String(error)), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Probes and metrics for operators and orchestrators; open even when the API needs a token. */
const operationsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/healthz', {
    schema: {
      operationId: 'getHealth',
      tags: ['operations'],
      summary: 'Liveness',
      description: 'Answers 200 while the process lives; checks no dependency.',
      security: [],
      response: { 200: { ...ref(Health), description: 'Alive.' } },
    },
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/readyz', {
    schema: {
      operationId: 'getReadiness',
      tags: ['operations'],
      summary: 'Readiness',
      description: 'Checks the database and the presence store, each within a second. 503 names what failed.',
      security: [],
      response: {
        200: { ...ref(Readiness), description: 'Both stores answer.' },
        503: { ...ref(Readiness), description: 'A store does not answer; its check says why.' },
      },
    },
  }, async (_request, reply) => {
    const [database, presence] = await Promise.all([
      check(() => fastify.persistence.db.query('SELECT 1')),
      check(() => fastify.sweeper.presence.ping()),
    ])
    const ready = database === 'ok' && presence === 'ok'
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks: { database, presence } })
  })

  fastify.get('/metrics', {
    schema: {
      operationId: 'getMetrics',
      tags: ['operations'],
      summary: 'Prometheus metrics',
      description: 'Sweeps by group and outcome, terminations, skips, durations, agent RPC, lock contention, guard trips.',
      security: [],
      response: {
        200: { description: 'The Prometheus text exposition format.', content: { 'text/plain': { schema: Type.String() } } },
      },
    },
  }, async (_request, reply) => {
    const { registry } = fastify.sweeper.metrics
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}

export default operationsRoutes
