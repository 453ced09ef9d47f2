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

export interface TestDatabase {
  /** The database's own URL, without a query string (tests add `?options=…` to it). */
  readonly url: string
  readonly schema: string
  /** Opens a database in this schema (closed at teardown). */
  open (options?: { maxConnections?: number }): PostgresDatabase
}

/**
 * A database of its own for one test, with a schema of its own in it (the service's code runs
 * schema-qualified, as a deployment may be); dropped at teardown, connections and all. A database
 * rather than only a schema because advisory locks, the sweep's `(233, scaling_group)` among them,
 * and LISTEN/NOTIFY are per database: test files running in parallel on one server would otherwise
 * find each other's groups locked. Use inside a test skipped by `skipWithoutPostgres`.
 */
export async function testDatabase (t: Test, { migrate = true } = {}): Promise<TestDatabase> {
  const name = `ks_test_${randomBytes(6).toString('hex')}`
  const schema = name
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  url.search = ''
  await asAdmin(`CREATE DATABASE ${name} TEMPLATE template0`)
  const setup = new pg.Client({ connectionString: url.href })
  await setup.connect()
  await setup.query(`CREATE SCHEMA ${schema}`)
  await setup.end()

  const opened: PostgresDatabase[] = []
  const open = (options: { maxConnections?: number } = {}): PostgresDatabase => {
    const db = new PostgresDatabase({ connectionString: url.href, schema, ...options })
    opened.push(db)
    return db
  }
  t.teardown(async () => {
    await Promise.all(opened.map((db) => db.close().catch(() => {})))
    // FORCE: a service process the test started may still hold connections as it exits.
    await asAdmin(`DROP DATABASE ${name} WITH (FORCE)`)
  })
  if (migrate) await runMigrations(open())
  return { url: url.href, schema, open }
}

async function asAdmin (sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await admin.connect()
  try {
    await admin.query(sql)
  } finally {
    await admin.end()
  }
}

/** The versions of every migration in `migrations/`, in order: what a new database gets. */
export function migrationVersions (): number[] {
  return readdirSync(new URL('../../migrations/', import.meta.url))
    .flatMap((name) => /^(\d+)\.do\./.exec(name)?.[1] ?? [])
    .map(Number)
    .sort((a, b) => a - b)
}
