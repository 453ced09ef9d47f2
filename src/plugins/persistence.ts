import fp from 'fastify-plugin'
import { openPersistence, type DatabaseSettings, type Persistence, type PersistenceOptions } from '../persistence/persistence.js'

declare module 'fastify' {
  interface FastifyInstance {
    persistence: Persistence
  }
}

export interface PersistencePluginOptions {
  readonly settings: DatabaseSettings & PersistenceOptions
  /** Already open (tests share one); the app then leaves closing it to the caller. */
  readonly persistence?: Persistence
}

/** Opens the database (migrating it) before the app serves, and closes it when the app closes. */
export default fp<PersistencePluginOptions>(async (fastify, options) => {
  const persistence = options.persistence ?? await openPersistence({ logger: fastify.log, ...options.settings })
  if (options.persistence === undefined) fastify.addHook('onClose', () => persistence.close())
  fastify.decorate('persistence', persistence)
}, { name: 'persistence' })
