import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { LockID } from '../../src/domain/lock-id.js'
import { InProcessLockFactory } from '../../src/persistence/locks/in-process-lock-factory.js'
import type { Queryable } from '../../src/persistence/database.js'
import { LockBusyError, LockExpiredError } from '../../src/persistence/locks/lock-factory.js'

const LOCK = LockID.LOCKID_SOKOVAN_TARGET_TERMINATING
const noDatabase = { transaction: async () => { throw new Error('no transaction expected') } }

t.test('in-process locks: busy, per scope, released, and let go after their lifetime', async (t) => {
  const locks = new InProcessLockFactory(noDatabase)
  const held = await locks.acquire(LOCK, 'default', { lifetimeMs: 60_000 })
  await t.rejects(locks.acquire(LOCK, 'default', { lifetimeMs: 60_000 }), LockBusyError)
  const other = await locks.acquire(LOCK, 'gpu', { lifetimeMs: 60_000 })
  t.ok(other.stillValid(), 'another group is free')

  await held.release()
  t.notOk(held.stillValid())
  const again = await locks.acquire(LOCK, 'default', { lifetimeMs: 50 })
  await held.release()
  t.ok(again.stillValid(), "an old handle's second release does not free the new holder's lock")
  await sleep(100)
  t.notOk(again.stillValid(), 'invalid after its lifetime')
  const after = await locks.acquire(LOCK, 'default', { lifetimeMs: 60_000 })
  t.ok(after.stillValid(), 'free after the lifetime')

  await locks.close()
  t.notOk(after.stillValid(), 'closing the factory lets every lock go')
  t.notOk(other.stillValid())
})

t.test('in-process locks: a fenced write runs only while the lock is valid, and keeps it until it ends', async (t) => {
  const transactions: string[] = []
  const tx: Queryable = { query: async () => [] }
  const db = { transaction: async <T>(work: (tx: Queryable) => Promise<T>): Promise<T> => { transactions.push('begin'); return work(tx) } }
  const locks = new InProcessLockFactory(db)

  const lock = await locks.acquire(LOCK, 'default', { lifetimeMs: 80 })
  t.equal(await lock.transaction(async () => 'written'), 'written')

  // The lifetime runs out while a write is under way: the write finishes, and nobody else gets
  // the lock before it has.
  let finishWrite = (): void => {}
  const writing = lock.transaction(() => new Promise<string>((resolve) => { finishWrite = () => { resolve('late') } }))
  await sleep(120)
  t.notOk(lock.stillValid(), 'invalid after its lifetime')
  await t.rejects(locks.acquire(LOCK, 'default', { lifetimeMs: 60_000 }), LockBusyError, 'held while the write runs')
  finishWrite()
  t.equal(await writing, 'late')
  await sleep(0)
  const next = await locks.acquire(LOCK, 'default', { lifetimeMs: 60_000 })

  await t.rejects(lock.transaction(async () => 'never'), LockExpiredError, 'an expired lock writes nothing')
  t.same(transactions, ['begin', 'begin'], 'no transaction was begun for the refused write')
  await next.release()
})
