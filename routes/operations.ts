import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

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

const Readiness = Type.Object({
  status: Type.Enum(['ok', 'unavailable']),
  checks: Type.Object({ database: Type.String(), presence: Type.String() }),
})

/** Probes and metrics for operators and orchestrators; open even when the API needs a token. */
const operationsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/healthz', {
    schema: {
      tags: ['operations'],
      summary: 'Liveness',
      description: 'Answers 200 while the process lives; checks no dependency.',
      response: { 200: Type.Object({ status: Type.Literal('ok') }) },
    },
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/readyz', {
    schema: {
      tags: ['operations'],
      summary: 'Readiness',
      description: 'Checks the database and the presence store, each within a second. 503 names what failed.',
      response: { 200: Readiness, 503: Readiness },
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
      tags: ['operations'],
      summary: 'Prometheus metrics',
      description: 'Sweeps by group and outcome, terminations, skips, durations, agent RPC, lock contention, guard trips.',
      produces: ['text/plain'],
      response: { 200: Type.String() },
    },
  }, async (_request, reply) => {
    const { registry } = fastify.sweeper.metrics
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}

export default operationsRoutes
