import { join } from 'node:path'
import Postgrator from 'postgrator'
import { packageRoot } from '../package-info.js'
import type { Database } from './database.js'

// Taken for the whole run so instances starting together migrate one after another; the second
// then finds nothing to do. A single-key lock never collides with the two-key sweep locks.
const MIGRATION_LOCK_SQL = "SELECT pg_advisory_lock(hashtext('kernel-sweeper.migrations')::bigint)"
const MIGRATION_UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('kernel-sweeper.migrations')::bigint)"

/** Brings the schema to the newest version; returns the versions applied by this call. */
export async function runMigrations (db: Database): Promise<number[]> {
  return db.withSession(async (session) => {
    await session.query(MIGRATION_LOCK_SQL)
    try {
      const [where] = await session.query<{ database: string, schema: string }>(
        'SELECT current_database() AS database, current_schema() AS schema'
      )
      const postgrator = new Postgrator({
        migrationPattern: join(packageRoot(), 'migrations', '*.sql'),
        driver: 'pg',
        database: where?.database ?? '',
        currentSchema: where?.schema ?? 'public',
        schemaTable: 'schema_migrations',
        execQuery: async (sql) => ({ rows: await session.query(sql) }),
        execSqlScript: (script) => session.exec(script),
      })
      const applied = await postgrator.migrate()
      return applied.map((migration) => migration.version)
    } finally {
      await session.query(MIGRATION_UNLOCK_SQL)
    }
  })
}
