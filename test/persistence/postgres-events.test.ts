import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import t from 'tap'
import type { Queryable } from '../../src/persistence/database.js'
import { EventRepository } from '../../src/persistence/event-repository.js'
import { KernelRepository } from '../../src/persistence/kernel-repository.js'
import { KernelStateEngine } from '../../src/persistence/kernel-state-engine.js'
import { InProcessLockFactory } from '../../src/persistence/locks/in-process-lock-factory.js'
import { persistenceOver } from '../../src/persistence/persistence.js'
import type { PostgresDatabase } from '../../src/persistence/postgres-database.js'
import { PostgresEventNotifier } from '../../src/persistence/postgres-event-notifier.js'
import { CapturingLogger } from '../helpers/capturing-logger.js'
import { kernel, sweepSummary } from '../helpers/persistence-contract.js'
import { skipWithoutPostgres, testDatabase } from '../helpers/postgres.js'

const WRITERS = 8
const TRANSACTIONS_PER_WRITER = 25
const SWEEPS = WRITERS * TRANSACTIONS_PER_WRITER
const KERNELS_PER_SWEEP = 2
/** Each sweep: its kernel.terminated events and its sweep.finished. */
const EVENTS = SWEEPS * (KERNELS_PER_SWEEP + 1)

/**
 * Writers commit `transaction` SWEEPS times, WRITERS at once, while a reader pages with `after`
 * as fast as it can; then the reader drains what is left. Returns every id the reader was given.
 */
async function readWhileWriting (
  writers: PostgresDatabase,
  transaction: (tx: Queryable, sweep: number) => Promise<void>,
  page: (after: string) => Promise<string[]>
): Promise<string[]> {
  const progress = { writing: true }
  const written = Promise.all(Array.from({ length: WRITERS }, async (_, writer) => {
    for (let i = 0; i < TRANSACTIONS_PER_WRITER; i++) {
      await writers.transaction((tx) => transaction(tx, writer * TRANSACTIONS_PER_WRITER + i))
    }
  })).finally(() => { progress.writing = false })
  const seen: string[] = []
  let cursor = '0'
  const read = async (): Promise<number> => {
    const ids = await page(cursor)
    seen.push(...ids)
    cursor = ids.at(-1) ?? cursor
    return ids.length
  }
  while (progress.writing) await read()
  await written
  while (await read() > 0);
  return seen
}

/** Sleeps in the transaction for some sweeps: before its writes (so commits interleave) or after them (holding them uncommitted). */
async function dawdle (tx: Queryable, sweep: number, when: 'before' | 'after'): Promise<void> {
  if (when === 'before' ? sweep % 3 === 0 : sweep % 4 === 0) await tx.query('SELECT pg_sleep($1)', [0.005 + Math.random() * 0.02])
}

function numbersUpTo (n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(i + 1))
}

t.test('the event log on real PostgreSQL', { skip: await skipWithoutPostgres() }, async (t) => {
  await t.test('a reader paging with `after` never misses an event while many transactions commit at once', async (t) => {
    const schema = await testDatabase(t)
    const writers = schema.open({ maxConnections: WRITERS })
    const reader = new EventRepository(schema.open({ maxConnections: 1 }))
    const kernels = Array.from({ length: SWEEPS }, () => Array.from({ length: KERNELS_PER_SWEEP }, () => kernel()))
    await new KernelRepository(writers).upsertMany(kernels.flat())
    const sweepIds = kernels.map(() => randomUUID())

    const seen = await readWhileWriting(writers, async (tx, sweep) => {
      await dawdle(tx, sweep, 'before')
      await new KernelStateEngine(tx).markKernelsTerminated(kernels[sweep]!.map((k) => ({
        kernelId: k.id, reason: 'STALE_KERNEL', fromStatus: k.status, expectedVersion: k.version,
      })), { sweepId: sweepIds[sweep]! })
      await new EventRepository(tx).appendSweepEvents(sweepSummary({ sweepId: sweepIds[sweep]!, kernels: KERNELS_PER_SWEEP, terminated: KERNELS_PER_SWEEP }), [])
      await dawdle(tx, sweep, 'after')
    }, async (after) => (await reader.page({ after, types: null, limit: 50 }))!.map((event) => event.id))

    t.ok(seen.every((id, i) => i === 0 || BigInt(id) > BigInt(seen[i - 1]!)), 'ids only ever went up')
    t.same(seen, numbersUpTo(EVENTS), `every one of the ${EVENTS} ids, once`)
    const [split] = await writers.query<{ n: number }>(`
      SELECT count(*)::int AS n FROM (
        SELECT max(id) - min(id) + 1 = count(*) AND max(id) = max(id) FILTER (WHERE type = 'sweep.finished') AS whole
        FROM events GROUP BY data->>'sweep_id'
      ) sweeps WHERE NOT whole`)
    t.equal(split!.n, 0, "each sweep's events have consecutive ids, its sweep.finished last")
  })

  await t.test('control: ids from a sequence taken at the start of the transaction are missed by the same reader', async (t) => {
    const schema = await testDatabase(t)
    const writers = schema.open({ maxConnections: WRITERS })
    const reader = schema.open({ maxConnections: 1 })
    await writers.query('CREATE TABLE naive_events (id bigserial PRIMARY KEY, sweep integer NOT NULL)')

    const seen = await readWhileWriting(writers, async (tx, sweep) => {
      await tx.query('INSERT INTO naive_events (sweep) SELECT $1 FROM generate_series(1, $2)', [sweep, KERNELS_PER_SWEEP + 1])
      await dawdle(tx, sweep, 'before')
      await dawdle(tx, sweep, 'after')
    }, async (after) => (await reader.query<{ id: string }>(
      'SELECT id::text AS id FROM naive_events WHERE id > $1 ORDER BY id LIMIT 50', [after]
    )).map((row) => row.id))

    const [written] = await reader.query<{ n: number }>('SELECT count(*)::int AS n FROM naive_events')
    t.equal(written!.n, EVENTS)
    t.ok(seen.length < EVENTS, `the reader missed ${EVENTS - seen.length} of ${EVENTS} events that committed below its cursor`)
  })

  await t.test('a commit through one instance wakes the notifier of another', async (t) => {
    const schema = await testDatabase(t)
    const writerDb = schema.open()
    const writer = persistenceOver(writerDb, new InProcessLockFactory(writerDb))
    const listenerDb = schema.open()
    const listener = persistenceOver(listenerDb, new InProcessLockFactory(listenerDb))
    t.teardown(() => listener.eventNotifier.close())

    t.equal(await listener.eventNotifier.nextCommit(5_000), true, 'the first wait connects, and is woken once listening')
    const latencies: number[] = []
    for (let i = 0; i < 5; i++) {
      const woken = listener.eventNotifier.nextCommit(5_000)
      await writer.events.appendSweepEvents(sweepSummary(), [])
      const committed = performance.now()
      t.equal(await woken, true)
      latencies.push(performance.now() - committed)
    }
    t.ok(Math.max(...latencies) < 200, `woken within ${Math.max(...latencies).toFixed(1)} ms of the commit`)
  })

  await t.test('a wait ends false at its timeout, or when its signal aborts', async (t) => {
    const schema = await testDatabase(t)
    const db = schema.open()
    const notifier = persistenceOver(db, new InProcessLockFactory(db)).eventNotifier
    t.teardown(() => notifier.close())
    await notifier.nextCommit(5_000)

    // Other test files on this server notify the same channel; one quiet 100 ms is all this needs.
    let quiet: { committed: boolean, elapsedMs: number } | undefined
    for (let attempt = 0; attempt < 5 && quiet?.committed !== false; attempt++) {
      const started = performance.now()
      quiet = { committed: await notifier.nextCommit(100), elapsedMs: performance.now() - started }
    }
    t.equal(quiet?.committed, false, 'timed out')
    t.ok(quiet!.elapsedMs >= 95, `after ${quiet!.elapsedMs.toFixed(0)} ms`)

    const aborting = new AbortController()
    const waiting = notifier.nextCommit(5_000, aborting.signal)
    aborting.abort()
    t.equal(await waiting, false, 'aborted')
    t.equal(await notifier.nextCommit(5_000, AbortSignal.abort()), false, 'already aborted')
  })

  await t.test('the listening connection is made again when it is killed, and wakes waiters after', async (t) => {
    const schema = await testDatabase(t)
    const db = schema.open()
    const events = new EventRepository(db)
    const logger = new CapturingLogger()
    const name = `ks-test-events-${randomUUID().slice(0, 8)}`
    const notifier = new PostgresEventNotifier({ newClient: () => db.newClient(name), logger, firstRetryMs: 50 })
    t.teardown(() => notifier.close())
    const listenerPid = async (): Promise<number | undefined> => (await db.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'", [name]
    ))[0]?.pid

    await notifier.nextCommit(5_000)
    const killed = await listenerPid()
    t.type(killed, 'number', 'listening on a connection of its own')
    await db.query('SELECT pg_terminate_backend($1)', [killed])
    t.equal(await notifier.nextCommit(5_000), true, 'woken once listening again, as commits meanwhile went unseen')
    let again: number | undefined
    while ((again = await listenerPid()) === undefined || again === killed) await sleep(20)
    t.not(again, killed, 'on a new connection')
    t.match(logger.at('warn'), [{ message: /listening connection failed or was lost/ }])

    const woken = notifier.nextCommit(5_000)
    await events.appendSweepEvents(sweepSummary(), [])
    t.equal(await woken, true, 'a later commit wakes it')
  })

  await t.test('with the server unreachable, waits time out, attempts back off, and close() stops them', async (t) => {
    const logger = new CapturingLogger()
    const notifier = new PostgresEventNotifier({
      newClient: () => new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 1_000 }),
      logger,
      firstRetryMs: 20,
      maxRetryMs: 80,
    })
    t.equal(await notifier.nextCommit(400), false)
    const retries = logger.at('warn').map((entry) => entry.fields['retryInMs'])
    t.ok(retries.length >= 3, `${retries.length} attempts`)
    t.same(retries.slice(0, 4), [20, 40, 80, 80].slice(0, retries.length), 'doubling up to the bound')
    await notifier.close()
    const attempts = logger.entries.length
    await sleep(200)
    t.equal(logger.entries.length, attempts, 'no attempt after close()')
    t.equal(await notifier.nextCommit(5_000), false, 'a closed notifier answers false at once')
  })
})
