import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger } from 'fastify'
import { Health, Readiness, ref } from '../src/http/schemas.js'

const CHECK_TIMEOUT_MS = 1_000

/**
 * "ok", or why not in the service's own words, naming the store and where it is, within a short
 * bound: a readiness probe must not hang on a hung store, nor show a client library's error text
 * (which can carry addresses with credentials) to whoever can reach it. The error itself is logged.
 */
async function check (log: FastifyBaseLogger, location: string, probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => { resolve(`${location} gave no answer within ${CHECK_TIMEOUT_MS} ms`) }, CHECK_TIMEOUT_MS)
  })
  const answer = probe().then(() => 'ok', (error: unknown) => {
    log.warn({ err: error, store: location }, 'readiness check failed')
    return `${location} does not answer`
  })
  try {
    return await Promise.race([answer, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Probes and metrics for operators and orchestrators; open even when the API needs a token. */
const operationsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/healthz', {
    config: { probe: true },
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
    config: { probe: true },
    schema: {
      operationId: 'getReadiness',
      tags: ['operations'],
      summary: 'Readiness',
      description: 'Checks the database and the presence store, each within a second, and says where each is (through Sentinel: the master in use). 503 names what failed.',
      security: [],
      response: {
        200: { ...ref(Readiness), description: 'Both stores answer.' },
        503: { ...ref(Readiness), description: 'A store does not answer; its check says why.' },
      },
    },
  }, async (_request, reply) => {
    const { db } = fastify.persistence
    const { presence: presenceStore, presenceLocation } = fastify.sweeper
    const [database, presence] = await Promise.all([
      check(fastify.log, db.location, () => db.query('SELECT 1')),
      check(fastify.log, presenceLocation(), () => presenceStore.ping()),
    ])
    const ready = database === 'ok' && presence === 'ok'
    // Asked after the checks: through Sentinel, the master that just answered.
    const locations = { database: db.location, presence: presenceLocation() }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks: { database, presence }, locations })
  })

  fastify.get('/metrics', {
    config: { probe: true },
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
