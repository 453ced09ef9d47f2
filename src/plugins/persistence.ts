import fp from 'fastify-plugin'
import { openPersistence, type DatabaseSettings, type Persistence, type PersistenceOptions } from '../persistence/persistence.js'
import { waitForStore } from './store-startup.js'

declare module 'fastify' {
  interface FastifyInstance {
    persistence: Persistence
  }
}

export interface PersistencePluginOptions {
  /** With `startupTimeoutSec` (`STARTUP_TIMEOUT_SEC`), how long to wait for the database to answer; one attempt without. */
  readonly settings: DatabaseSettings & PersistenceOptions & { readonly startupTimeoutSec?: number }
  /** Already open (tests share one); the app then leaves closing it to the caller. */
  readonly persistence?: Persistence
}

/**
 * Opens the database (waiting up to `STARTUP_TIMEOUT_SEC` for it to answer, then migrating it)
 * before the app serves, and closes it when the app closes.
 */
export default fp<PersistencePluginOptions>(async (fastify, options) => {
  const { settings } = options
  const persistence = options.persistence ?? await openPersistence({
    logger: fastify.log,
    ...settings,
    untilAnswering: (db) => waitForStore({
      store: 'database', location: db.location, probe: () => db.query('SELECT 1'), timeoutSec: settings.startupTimeoutSec ?? 0, logger: fastify.log,
    }),
  })
  if (options.persistence === undefined) fastify.addHook('onClose', () => persistence.close())
  fastify.decorate('persistence', persistence)
}, { name: 'persistence' })
