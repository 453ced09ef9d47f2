import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import t from 'tap'
import { KernelStatus } from '../../src/domain/kernel-status.js'
import { DatabaseUnavailableError } from '../../src/persistence/database.js'
import { KernelHistoryRepository } from '../../src/persistence/kernel-history-repository.js'
import { KernelRepository } from '../../src/persistence/kernel-repository.js'
import { KernelStateEngine } from '../../src/persistence/kernel-state-engine.js'
import { runMigrations } from '../../src/persistence/migrate.js'
import { PostgresLockFactory } from '../../src/persistence/locks/postgres-lock-factory.js'
import { openPersistence } from '../../src/persistence/persistence.js'
import { PostgresDatabase } from '../../src/persistence/postgres-database.js'
import { kernel } from '../helpers/persistence-contract.js'
import { migrationVersions, skipWithoutPostgres, testDatabase } from '../helpers/postgres.js'

const { RUNNING, TERMINATING } = KernelStatus

t.test('consistency on real PostgreSQL', { skip: await skipWithoutPostgres() }, async (t) => {
  await t.test('a status changed between the read and the transition is left alone, with no history row', async (t) => {
    const schema = await testDatabase(t)
    const db = schema.open()
    const kernels = new KernelRepository(db)
    const k = kernel()
    await kernels.upsert(k)

    // Another writer changes the kernel and holds its row lock while the sweep's transition runs:
    // the transition waits, then re-checks its condition against the committed row.
    const other = new pg.Client({ connectionString: schema.url, options: `-c search_path=${schema.schema}` })
    await other.connect()
    t.teardown(() => other.end())
    await other.query('BEGIN')
    await other.query("UPDATE kernels SET status = 'TERMINATING' WHERE id = $1", [k.id])

    const transition = new KernelStateEngine(db).markKernelsTerminated(
      [{ kernelId: k.id, reason: 'STALE_KERNEL', fromStatus: RUNNING, expectedVersion: 1 }], { sweepId: null })
    await sleep(200)
    await other.query('COMMIT')

    t.same(await transition, [], 'not updated')
    t.equal((await kernels.get(k.id))?.status, TERMINATING)
    t.same(await new KernelHistoryRepository(db).listForKernel(k.id), [], 'no history row')
  })

  await t.test('parallel creators of one new kernel: the row and its history agree every time', async (t) => {
    const schema = await testDatabase(t)
    const db = schema.open({ maxConnections: 6 })
    const kernels = new KernelRepository(db)
    const history = new KernelHistoryRepository(db)
    const statuses: readonly KernelStatus[] = [RUNNING, KernelStatus.TERMINATED, KernelStatus.RESTARTING, TERMINATING, KernelStatus.PENDING]
    for (let trial = 0; trial < 40; trial++) {
      const k = kernel()
      await Promise.all(statuses.map((status) => kernels.upsert({ ...k, status })))
      const row = (await kernels.get(k.id))!
      const changes = await history.listForKernel(k.id)
      // Whoever created it came first; every later writer that changed the status left one row.
      const chained = changes.every((change, i) => i === 0 || change.fromStatus === changes[i - 1]!.toStatus)
      const first = changes[0]?.fromStatus ?? row.status
      if (!chained || (changes.at(-1)?.toStatus ?? first) !== row.status || row.version !== 1 + changes.length ||
          changes.some((change) => change.fromStatus === change.toStatus) || !statuses.includes(first)) {
        t.fail(`trial ${trial}: ${row.status} at version ${row.version} with history ${JSON.stringify(changes.map((c) => [c.fromStatus, c.toStatus]))}`)
        return
      }
    }
    t.pass('40 trials of 5 parallel creators: history chains from the creator to the final status, version = 1 + changes')
  })

  await t.test('two instances migrating the same database at once both start', async (t) => {
    const schema = await testDatabase(t, { migrate: false })
    const [first, second] = await Promise.all([runMigrations(schema.open()), runMigrations(schema.open())])
    t.same([...first, ...second].sort((a, b) => a - b), migrationVersions(), 'each migration applied exactly once')
    t.ok(first.length === 0 || second.length === 0, 'the later one found nothing to do')
    t.same(await runMigrations(schema.open()), [], 'idempotent')
  })

  await t.test('a lost connection is a DatabaseUnavailableError, and the pool recovers', async (t) => {
    const schema = await testDatabase(t)
    const db = schema.open({ maxConnections: 1 })
    const admin = new pg.Client({ connectionString: schema.url })
    await admin.connect()
    t.teardown(() => admin.end())
    const [{ pid }] = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid') as [{ pid: number }]

    const killed = db.transaction(async (tx) => {
      await tx.query('SELECT 1')
      await admin.query('SELECT pg_terminate_backend($1)', [pid])
      await tx.query('SELECT 1')
    })
    await t.rejects(killed, DatabaseUnavailableError)
    t.same(await db.query('SELECT 1 AS ok'), [{ ok: 1 }], 'the next query gets a fresh connection')
  })

  await t.test('an unreachable server is a DatabaseUnavailableError, within the connect timeout', async (t) => {
    const db = new PostgresDatabase({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMs: 1_000 })
    t.teardown(() => db.close())
    const started = Date.now()
    await t.rejects(db.query('SELECT 1'), DatabaseUnavailableError)
    await t.rejects(db.transaction(async () => {}), DatabaseUnavailableError)
    t.ok(Date.now() - started < 3_000)
  })

  await t.test('a DATABASE_URL means Postgres, migrated at open, with advisory locks', async (t) => {
    const schema = await testDatabase(t, { migrate: false })
    const url = `${schema.url}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`
    const persistence = await openPersistence({ databaseUrl: url, dataDir: 'unused' })
    t.teardown(() => persistence.close())
    t.equal(persistence.db.kind, 'postgres')
    t.type(persistence.locks, PostgresLockFactory)
    const k = kernel()
    await persistence.kernels.upsert(k)
    t.match(await persistence.kernels.get(k.id), k, 'the schema is there')
  })

  await t.test('opening an unreachable DATABASE_URL fails fast with DatabaseUnavailableError', async (t) => {
    await t.rejects(openPersistence({ databaseUrl: 'postgres://postgres@127.0.0.1:1/test', dataDir: 'unused' }), DatabaseUnavailableError)
  })
})
