import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { LockID } from '../../src/domain/lock-id.js'
import { InProcessLockFactory } from '../../src/persistence/locks/in-process-lock-factory.js'
import { LockBusyError } from '../../src/persistence/locks/lock-factory.js'

const LOCK = LockID.LOCKID_SOKOVAN_TARGET_TERMINATING

t.test('in-process locks: busy, per scope, released, and let go after their lifetime', async (t) => {
  const locks = new InProcessLockFactory()
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
