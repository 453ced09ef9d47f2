import Fastify, { type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import operationsRoutes from '../routes/operations.js'
import type { Config } from './config.js'
import type { Persistence } from './persistence/persistence.js'
import persistencePlugin from './plugins/persistence.js'

export interface BuildAppOptions {
  /** `false` silences the logger (tests); otherwise pino at `config.logLevel`. */
  readonly logger?: boolean
  /** An already open persistence, which the caller keeps and closes; opened from `config` otherwise. */
  readonly persistence?: Persistence
}

/** Builds the service without listening, so tests can `inject` into the very same app. */
export async function buildApp (config: Config, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const fastify = Fastify({
    logger: options.logger === false ? false : { level: config.logLevel },
    // Ids in logs let an operator follow one request; the sweep id joins them later.
    requestIdLogLabel: 'request_id',
  }).withTypeProvider<TypeBoxTypeProvider>()

  await fastify.register(persistencePlugin, {
    settings: config,
    ...(options.persistence === undefined ? {} : { persistence: options.persistence }),
  })
  await fastify.register(operationsRoutes)
  return fastify
}
