import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import t from 'tap'
import { LockID } from '../../src/domain/lock-id.js'
import { DatabaseUnavailableError } from '../../src/persistence/database.js'
import { LockBusyError, LockExpiredError } from '../../src/persistence/locks/lock-factory.js'
import { PostgresLockFactory } from '../../src/persistence/locks/postgres-lock-factory.js'
import { skipWithoutPostgres, TEST_DATABASE_URL, testDatabase } from '../helpers/postgres.js'

const LOCK = LockID.LOCKID_SOKOVAN_TARGET_TERMINATING
const MINUTE = 60_000

/** Polls until `condition` holds or two seconds pass; returns whether it held. */
async function eventually (condition: () => Promise<boolean> | boolean): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    if (await condition()) return true
    await sleep(50)
  }
  return false
}

// Each test names its own scaling group, so test files sharing the server never collide.
const group = (name: string): string => `locks-${process.pid}-${name}`

t.test('advisory locks on real PostgreSQL', { skip: await skipWithoutPostgres() }, async (t) => {
  // Two factories stand for two service instances: separate pools, separate sessions.
  const mine = new PostgresLockFactory({ connectionString: TEST_DATABASE_URL })
  const theirs = new PostgresLockFactory({ connectionString: TEST_DATABASE_URL })
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await admin.connect()
  t.teardown(async () => {
    await Promise.all([mine.close(), theirs.close(), admin.end()])
  })

  await t.test('a held lock is busy for another connection, at once; other groups are free', async (t) => {
    const held = await mine.acquire(LOCK, group('busy'), { lifetimeMs: MINUTE })
    const started = Date.now()
    await t.rejects(theirs.acquire(LOCK, group('busy'), { lifetimeMs: MINUTE }), LockBusyError)
    t.ok(Date.now() - started < 1_000, 'busy is answered without waiting')
    const other = await theirs.acquire(LOCK, group('busy-other'), { lifetimeMs: MINUTE })
    t.ok(other.stillValid(), 'a different scaling group is locked in parallel')
    await other.release()

    await held.release()
    t.notOk(held.stillValid(), 'not valid once released')
    const next = await theirs.acquire(LOCK, group('busy'), { lifetimeMs: MINUTE })
    t.ok(next.stillValid(), 'free after release')
    await next.release()
    await held.release()
    t.pass('releasing twice is harmless')
  })

  await t.test('a holder whose backend is killed loses the lock, and the lock is free', async (t) => {
    const scope = group('killed')
    const held = await mine.acquire(LOCK, scope, { lifetimeMs: MINUTE })
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::int::oid
         AND objid = (hashtext($2)::bigint & 4294967295)::oid AND objsubid = 2`,
      [LOCK, scope]
    )
    t.equal(rows.length, 1, 'one backend holds it')
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid])

    t.ok(await eventually(() => !held.stillValid()), 'the holder learns it lost the lock')
    let taken = null
    t.ok(await eventually(async () => {
      taken = await theirs.acquire(LOCK, scope, { lifetimeMs: MINUTE }).catch(() => null)
      return taken !== null
    }), 'another instance takes it')
    await held.release()
    t.pass('releasing a lost lock does not throw')
    await (taken as { release: () => Promise<void> } | null)?.release()
  })

  await t.test('a lock outliving its lifetime is let go and no longer valid', async (t) => {
    const scope = group('lifetime')
    const held = await mine.acquire(LOCK, scope, { lifetimeMs: 200 })
    t.ok(held.stillValid())
    await t.rejects(theirs.acquire(LOCK, scope, { lifetimeMs: MINUTE }), LockBusyError)
    t.ok(await eventually(() => !held.stillValid()), 'invalid after the lifetime')
    const next = await theirs.acquire(LOCK, scope, { lifetimeMs: MINUTE })
    t.ok(next.stillValid(), 'free for another after the lifetime')
    await next.release()
    await held.release()
  })

  await t.test('an unreachable server is a DatabaseUnavailableError, quickly', async (t) => {
    const nowhere = new PostgresLockFactory({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMs: 1_000 })
    t.teardown(() => nowhere.close())
    const started = Date.now()
    await t.rejects(nowhere.acquire(LOCK, group('nowhere'), { lifetimeMs: MINUTE }), DatabaseUnavailableError)
    t.ok(Date.now() - started < 3_000)
  })

  await t.test('fenced writes (rule 6): on the lock\'s own connection, and never once the lock is gone', async (t) => {
    const schema = await testDatabase(t)
    const url = `${schema.url}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`
    const locks = new PostgresLockFactory({ connectionString: url })
    const others = new PostgresLockFactory({ connectionString: url })
    // The table is in the test's own database; pg_locks, read by `admin`, covers the whole server.
    const reader = new pg.Client({ connectionString: schema.url })
    await reader.connect()
    t.teardown(async () => { await Promise.all([locks.close(), others.close(), reader.end()]) })
    await reader.query(`CREATE TABLE ${schema.schema}.writes (note text)`)
    const written = async (): Promise<string[]> =>
      (await reader.query<{ note: string }>(`SELECT note FROM ${schema.schema}.writes ORDER BY note`)).rows.map((row) => row.note)
    const holderPid = async (scope: string): Promise<number | undefined> => (await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::int::oid
         AND objid = (hashtext($2)::bigint & 4294967295)::oid AND objsubid = 2`, [LOCK, scope])).rows[0]?.pid

    await t.test('a write commits in one transaction over the connection that holds the lock', async (t) => {
      const scope = group('fenced-ok')
      const lock = await locks.acquire(LOCK, scope, { lifetimeMs: MINUTE })
      const pid = await lock.transaction(async (tx) => {
        await tx.query("INSERT INTO writes VALUES ('ok')")
        return (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid
      })
      t.equal(pid, await holderPid(scope), 'the lock holder wrote')
      t.same(await written(), ['ok'])
      await lock.release()
    })

    await t.test('a lock whose lifetime ran out writes nothing', async (t) => {
      const lock = await locks.acquire(LOCK, group('fenced-expired'), { lifetimeMs: 100 })
      await sleep(150)
      let ran = false
      await t.rejects(lock.transaction(async () => { ran = true }), LockExpiredError)
      t.notOk(ran, 'the work never started')
      await lock.release()
    })

    await t.test('a lock whose connection was killed just before the write writes nothing', async (t) => {
      const scope = group('fenced-killed')
      const lock = await locks.acquire(LOCK, scope, { lifetimeMs: MINUTE })
      await admin.query('SELECT pg_terminate_backend($1)', [await holderPid(scope)])
      // Whether or not the holder has noticed yet, the write cannot get through.
      await t.rejects(lock.transaction(async (tx) => { await tx.query("INSERT INTO writes VALUES ('killed-before')") }))
      t.notOk(lock.stillValid())
      t.notOk((await written()).includes('killed-before'))
      const next = await others.acquire(LOCK, scope, { lifetimeMs: MINUTE })
      await next.release()
      await lock.release()
    })

    await t.test('a connection killed in the middle of the write commits none of it', async (t) => {
      const scope = group('fenced-killed-mid')
      const lock = await locks.acquire(LOCK, scope, { lifetimeMs: MINUTE })
      const pid = await holderPid(scope)
      await t.rejects(lock.transaction(async (tx) => {
        await tx.query("INSERT INTO writes VALUES ('half')")
        await admin.query('SELECT pg_terminate_backend($1)', [pid])
        await tx.query("INSERT INTO writes VALUES ('other-half')")
      }))
      t.notOk((await written()).includes('half'), 'rolled back with the connection')
      await lock.release()
    })

    await t.test('a write that would outlast the lifetime is cancelled, and holds the lock until then', async (t) => {
      const scope = group('fenced-outlast')
      const lock = await locks.acquire(LOCK, scope, { lifetimeMs: 400 })
      const writing = lock.transaction(async (tx) => {
        await tx.query("INSERT INTO writes VALUES ('slow')")
        await tx.query('SELECT pg_sleep(2)')
      })
      await sleep(300)
      await t.rejects(others.acquire(LOCK, scope, { lifetimeMs: MINUTE }), LockBusyError, 'still held while writing')
      await t.rejects(writing, LockExpiredError)
      t.notOk((await written()).includes('slow'), 'nothing of it committed')
      t.ok(await eventually(async () => {
        const next = await others.acquire(LOCK, scope, { lifetimeMs: MINUTE }).catch(() => null)
        await next?.release()
        return next !== null
      }), 'free afterwards')
    })
  })
})
