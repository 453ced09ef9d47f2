import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { InProcessLockFactory } from '../../src/persistence/locks/in-process-lock-factory.js'
import { runMigrations } from '../../src/persistence/migrate.js'
import { persistenceOver, type Persistence } from '../../src/persistence/persistence.js'
import { PGliteDatabase } from '../../src/persistence/pglite-database.js'
import { PGliteEventNotifier } from '../../src/persistence/pglite-event-notifier.js'
import { sweepSummary } from '../helpers/persistence-contract.js'

/** Whether `promise` has settled by now, without waiting for it. */
async function settled (promise: Promise<unknown>): Promise<boolean> {
  return Promise.race([promise.then(() => true), sleep(20).then(() => false)])
}

t.test('event notifications on embedded PGlite', async (t) => {
  const db = await PGliteDatabase.open('memory://')
  await runMigrations(db)
  const p: Persistence = persistenceOver(db, new InProcessLockFactory(db))
  t.teardown(() => p.close())
  const notifier = p.eventNotifier
  t.type(notifier, PGliteEventNotifier)
  // Listening starts shortly after the notifier is made, and wakes whoever waits then.
  const listening = notifier.nextCommit(5_000)
  await p.events.appendSweepEvents(sweepSummary(), [])
  t.equal(await listening, true, 'listening')

  await t.test('a commit wakes the waiters registered before it, not before it commits', async (t) => {
    const first = notifier.nextCommit(5_000)
    const second = notifier.nextCommit(5_000)
    await db.transaction(async (tx) => {
      await p.events.within(tx).appendSweepEvents(sweepSummary(), [])
      t.equal(await settled(first), false, 'not woken by the uncommitted write')
    })
    t.equal(await first, true)
    t.equal(await second, true, 'every waiter')
    t.equal(await settled(notifier.nextCommit(5_000)), false, 'a later waiter waits for the next commit')
  })

  await t.test('a transaction that rolls back wakes nobody', async (t) => {
    const waiting = notifier.nextCommit(200)
    await t.rejects(db.transaction(async (tx) => {
      await p.events.within(tx).appendSweepEvents(sweepSummary(), [])
      throw new Error('rolled back')
    }))
    t.equal(await waiting, false)
  })

  await t.test('a wait ends false at its timeout, or when its signal aborts', async (t) => {
    const started = performance.now()
    t.equal(await notifier.nextCommit(50), false)
    t.ok(performance.now() - started >= 45, 'after the timeout')
    const aborting = new AbortController()
    const waiting = notifier.nextCommit(5_000, aborting.signal)
    aborting.abort()
    t.equal(await waiting, false)
    t.equal(await notifier.nextCommit(5_000, AbortSignal.abort()), false, 'already aborted')
  })

  await t.test('closing ends every wait false', async (t) => {
    const own = new PGliteEventNotifier(db)
    const waiting = own.nextCommit(5_000)
    await own.close()
    t.equal(await waiting, false)
    t.equal(await own.nextCommit(5_000), false, 'and every later one at once')
    const other = notifier.nextCommit(5_000)
    await p.events.appendSweepEvents(sweepSummary(), [])
    t.equal(await other, true, 'another notifier on the same database still listens')
  })
})
