import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { PACKAGE_VERSION } from '../package-info.js'

interface Operation {
  'x-body-optional'?: boolean
  requestBody?: { required?: boolean }
}

/**
 * @fastify/swagger marks every request body required (Fastify needs one where a body schema is
 * declared); a route whose body may be left out says so with `x-body-optional`, turned here into
 * what the document means.
 */
function markOptionalBodies (document: { paths?: Record<string, Record<string, Operation>> }): void {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      if (operation['x-body-optional'] !== true) continue
      delete operation['x-body-optional']
      if (operation.requestBody !== undefined) operation.requestBody.required = false
    }
  }
}

/**
 * The OpenAPI document, generated from the routes' own TypeBox schemas; `openapi.yaml` is this
 * document written down (`npm run openapi`), and a test fails when the two differ. Named schemas
 * keep their `$id` as their name under `components.schemas`.
 */
export default fp(async (fastify) => {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'kernel-sweeper',
        version: PACKAGE_VERSION,
        description: 'Finds compute kernels the scheduler believes RUNNING but which have died, and moves them to ' +
          'TERMINATED without ever terminating a live one: a kernel is declared dead only when its presence in ' +
          'Valkey is stale or missing and its own agent says it does not run. Errors are RFC 9457 problem ' +
          'details (`application/problem+json`) with a stable `type`.',
        license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
      },
      // Relative: wherever the document is served from (any HOST and PORT, behind a proxy) is the service.
      servers: [{ url: '/', description: 'The service that serves this document.' }],
      tags: [
        { name: 'sweeps', description: 'Trigger sweeps and read their records.' },
        { name: 'kernels', description: 'The kernels sweeps work on.' },
        { name: 'agents', description: 'Agent registrations, heartbeats, reconciliation and decommissioning.' },
        { name: 'events', description: 'What sweeps did, as a log to page through, wait on, or stream.' },
        { name: 'operations', description: 'Probes and metrics.' },
      ],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN when set; the heartbeat and reconcile routes also take AGENT_TOKEN.' } },
      },
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject
      markOptionalBodies(document.openapiObject as Parameters<typeof markOptionalBodies>[0])
      return document.openapiObject
    },
  })
  await fastify.register(swaggerUi, {
    routePrefix: '/docs',
    // The page loads its scripts, styles and the API document from the service itself and talks
    // to the API there; nothing inline, nothing from elsewhere. Unlike swagger-ui's own policy it
    // neither upgrades requests to https (the service speaks plain HTTP) nor allows any https: style.
    staticCSP: {
      'default-src': "'self'",
      'base-uri': "'self'",
      'form-action': "'self'",
      'frame-ancestors': "'none'",
      'img-src': ["'self'", 'data:'],
      'object-src': "'none'",
      'script-src-attr': "'none'",
    },
  })
}, { name: 'swagger' })
