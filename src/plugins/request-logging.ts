import { randomUUID } from 'node:crypto'
import { LogController, type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A probe (`/healthz`, `/readyz`, `/metrics`): asked every few seconds, logged at debug only. */
    probe?: boolean
  }
}

/** What a caller's `x-request-id` may be to be taken as it is: short, and harmless in a log line or a header. */
const REQUEST_ID = /^[\w.:/+=-]{1,128}$/

/**
 * Request ids: the caller's `x-request-id` when it is a sane one (so a control plane can follow
 * its call into these logs), a fresh UUID otherwise; logged as `request_id`. Fastify's own
 * two lines per request are replaced by the plugin's one.
 */
export function requestIdOptions (): Pick<FastifyServerOptions, 'genReqId' | 'requestIdHeader' | 'logController'> {
  return {
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
  }
}

/** One line per answered request, with its status and time; probes at debug. The id is echoed to the caller. */
export default fp(async (fastify) => {
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  fastify.addHook('onResponse', async (request, reply) => {
    const fields = { method: request.method, url: request.url, status: reply.statusCode, duration_ms: Math.round(reply.elapsedTime * 10) / 10 }
    if (request.routeOptions.config.probe === true) request.log.debug(fields, 'request answered')
    else request.log.info(fields, 'request answered')
  })
}, { name: 'request-logging' })
