import { randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import pg from 'pg'
import type { Test } from 'tap'
import { runMigrations } from '../../src/persistence/migrate.js'
import { PostgresDatabase } from '../../src/persistence/postgres-database.js'
import { skipUnlessAvailable } from './services.js'

/** The server the tests use; CI and the dev machines run one here. */
export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

let reachable: Promise<string | null> | undefined

/** Null when Postgres answers, else why not. Asked once per test file. */
function whyUnreachable (): Promise<string | null> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      return null
    } catch (error) {
      return `PostgreSQL at ${TEST_DATABASE_URL} does not answer: ${(error as Error).message}`
    } finally {
      await client.end().catch(() => {})
    }
  })()
  return reachable
}

/** For `t.test(name, { skip }, …)`; see `skipUnlessAvailable`. */
export function skipWithoutPostgres (): Promise<string | false> {
  return skipUnlessAvailable(whyUnreachable())
}

export interface TestSchema {
  readonly url: string
  readonly schema: string
  /** Opens a database in this schema (closed at teardown). */
  open (options?: { maxConnections?: number }): PostgresDatabase
}

/**
 * A fresh schema of its own for one test, so test files run in parallel on one server; dropped at
 * teardown. Use inside a test skipped by `skipWithoutPostgres`.
 */
export async function testSchema (t: Test, { migrate = true } = {}): Promise<TestSchema> {
  const schema = `ks_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()

  const opened: PostgresDatabase[] = []
  const open = (options: { maxConnections?: number } = {}): PostgresDatabase => {
    const db = new PostgresDatabase({ connectionString: TEST_DATABASE_URL, schema, ...options })
    opened.push(db)
    return db
  }
  t.teardown(async () => {
    await Promise.all(opened.map((db) => db.close().catch(() => {})))
    const cleanup = new pg.Client({ connectionString: TEST_DATABASE_URL })
    await cleanup.connect()
    await cleanup.query(`DROP SCHEMA ${schema} CASCADE`)
    await cleanup.end()
  })
  if (migrate) await runMigrations(open())
  return { url: TEST_DATABASE_URL, schema, open }
}

/** The versions of every migration in `migrations/`, in order: what a new database gets. */
export function migrationVersions (): number[] {
  return readdirSync(new URL('../../migrations/', import.meta.url))
    .flatMap((name) => /^(\d+)\.do\./.exec(name)?.[1] ?? [])
    .map(Number)
    .sort((a, b) => a - b)
}
