import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'

/**
 * The OpenAPI document, generated from the routes' own TypeBox schemas; `openapi.yaml` is this
 * document written down (`npm run openapi`), and a test fails when the two differ.
 */
export default fp(async (fastify) => {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'kernel-sweeper',
        version: '1.0.0',
        description: 'Finds compute kernels the scheduler believes RUNNING but which have died, and moves them to ' +
          'TERMINATED without ever terminating a live one: a kernel is declared dead only when its presence in ' +
          'Valkey is stale or missing and its own agent says it does not run.',
      },
      tags: [
        { name: 'sweeps', description: 'Trigger sweeps and read their records.' },
        { name: 'kernels', description: 'The kernels sweeps work on.' },
        { name: 'agents', description: 'Agent registrations and heartbeats.' },
        { name: 'operations', description: 'Probes and metrics.' },
      ],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN (or AGENT_TOKEN for heartbeats), when set.' } },
      },
    },
  })
  await fastify.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'swagger' })
