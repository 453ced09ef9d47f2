import Fastify, { type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import agentsRoutes from '../routes/agents.js'
import eventsRoutes from '../routes/events.js'
import kernelsRoutes from '../routes/kernels.js'
import operationsRoutes from '../routes/operations.js'
import sweepsRoutes from '../routes/sweeps.js'
import type { Config } from './config.js'
import { serializersOnFirstUse } from './http/compile-on-first-use.js'
import { logContextFields } from './observability/log-context.js'
import type { Persistence } from './persistence/persistence.js'
import authPlugin from './plugins/auth.js'
import errorHandlerPlugin, { toProblem } from './plugins/error-handler.js'
import { HttpProblem, sendProblem } from './http/problem.js'
import gracefulClosePlugin from './plugins/graceful-close.js'
import httpMetricsPlugin from './plugins/http-metrics.js'
import { httpServerOptions } from './plugins/http-server.js'
import jsonBodyLimitsPlugin from './plugins/json-body-limits.js'
import persistencePlugin from './plugins/persistence.js'
import requestLoggingPlugin, { requestIdOptions } from './plugins/request-logging.js'
import securityHeadersPlugin from './plugins/security-headers.js'
import swaggerPlugin from './plugins/swagger.js'
import sweeperPlugin from './plugins/sweeper.js'
import validationPlugin from './plugins/validation.js'

export interface BuildAppOptions {
  /** `false` silences the logger (tests); otherwise pino at `config.logLevel`. */
  readonly logger?: boolean
  /** Where log lines go (tests read them); standard output otherwise. */
  readonly logStream?: NodeJS.WritableStream
  /** An already open persistence, which the caller keeps and closes; opened from `config` otherwise. */
  readonly persistence?: Persistence
  /** How long closing waits for running sweeps before stopping them short of writing. */
  readonly shutdownGraceMs?: number
}

/**
 * Builds the service without listening, so tests can `inject` into the very same app: external
 * plugins, then the application's own (stores, sweeper), then the routes.
 */
export async function buildApp (config: Config, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const retryAfterSec = Math.max(1, Math.ceil(config.sweepLockLifetimeSec / 6))
  const fastify = Fastify({
    // Creating an embedded database (PGlite's initdb, when there is no template) takes seconds,
    // more on a loaded machine, and a store may be waited for (STARTUP_TIMEOUT_SEC); Fastify's
    // default of 10 s per plugin would fail the start rather than wait for them.
    pluginTimeout: 60_000 + config.startupTimeoutSec * 1000,
    ...httpServerOptions(config),
    schemaController: { compilersFactory: { buildSerializer: serializersOnFirstUse() } },
    ...requestIdOptions(),
    // Errors raised before routing (a malformed URL, an over-long parameter) are problems too.
    frameworkErrors: (error, _request, reply) => {
      sendProblem(reply, toProblem(error, retryAfterSec) ?? new HttpProblem(400, 'bad-request', 'Bad request', error.message))
    },
    logger: options.logger === false
      ? false
      : { level: config.logLevel, mixin: logContextFields, ...(options.logStream === undefined ? {} : { stream: options.logStream }) },
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Every body the API takes is JSON: anything else is 415, not a string that fails validation.
  fastify.removeContentTypeParser('text/plain')
  await fastify.register(requestLoggingPlugin)
  await fastify.register(jsonBodyLimitsPlugin)
  await fastify.register(gracefulClosePlugin)
  await fastify.register(securityHeadersPlugin)
  await fastify.register(validationPlugin)
  await fastify.register(errorHandlerPlugin, { retryAfterSec })
  await fastify.register(swaggerPlugin)
  await fastify.register(persistencePlugin, {
    settings: config,
    ...(options.persistence === undefined ? {} : { persistence: options.persistence }),
  })
  await fastify.register(authPlugin, { apiToken: config.apiToken, agentToken: config.agentToken, agentTokenSecret: config.agentTokenSecret })
  await fastify.register(sweeperPlugin, {
    config,
    ...(options.shutdownGraceMs === undefined ? {} : { shutdownGraceMs: options.shutdownGraceMs }),
  })
  await fastify.register(httpMetricsPlugin)

  await fastify.register(operationsRoutes)
  await fastify.register(sweepsRoutes)
  await fastify.register(kernelsRoutes)
  await fastify.register(agentsRoutes)
  await fastify.register(eventsRoutes)
  return fastify
}
