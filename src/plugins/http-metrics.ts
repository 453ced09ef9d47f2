import fp from 'fastify-plugin'

/** The route heartbeats come in by. */
const PRESENCE_ROUTE = '/v1/agents/:agent_id/presence'

/**
 * Every answered request into `kernel_sweeper_http_request_duration_seconds`, labelled by its
 * route template (bounded, unlike URLs), and heartbeats by outcome, from the answers themselves:
 * a refusal is counted whatever refused it (token, body, presence store).
 */
export default fp(async (fastify) => {
  const { metrics } = fastify.sweeper
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url
    metrics.requestAnswered(request.method, route, reply.statusCode, reply.elapsedTime / 1000)
    if (route === PRESENCE_ROUTE && request.method === 'POST') metrics.heartbeat(reply.statusCode < 300 ? 'accepted' : 'refused')
  })
}, { name: 'http-metrics', dependencies: ['sweeper'] })
