import pg from 'pg'
import type { LockID } from '../../domain/lock-id.js'
import { DatabaseUnavailableError, type Queryable } from '../database.js'
import { queryableOf } from '../postgres-database.js'
import { LockBusyError, LockExpiredError, type LockFactory, type LockHandle, type LockOptions } from './lock-factory.js'

export interface PostgresLockFactoryOptions {
  readonly connectionString: string
  readonly maxConnections?: number
  readonly connectionTimeoutMs?: number
}

const TRY_LOCK_SQL = 'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked'
const UNLOCK_SQL = 'SELECT pg_advisory_unlock($1, hashtext($2))'
// Asked on the lock's own connection inside the fenced transaction: does this session still hold it?
const HOLDS_LOCK_SQL = `
SELECT EXISTS (
  SELECT 1 FROM pg_locks
  WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
    AND classid = $1::integer::oid AND objid = hashtext($2)::oid AND objsubid = 2
) AS held`
const QUERY_CANCELED = '57014'

/** A held advisory lock and the connection that holds it. */
class AdvisoryLock implements LockHandle {
  private released = false
  private lost = false
  private writing: Promise<unknown> | null = null
  private readonly timer: NodeJS.Timeout
  private readonly deadline: number
  private readonly onConnectionError = (): void => { this.lost = true }

  constructor (
    private readonly client: pg.PoolClient,
    private readonly lockId: LockID,
    private readonly scope: string,
    lifetimeMs: number
  ) {
    client.on('error', this.onConnectionError)
    this.deadline = Date.now() + lifetimeMs
    this.timer = setTimeout(() => { this.release().catch(() => {}) }, lifetimeMs)
    this.timer.unref()
  }

  stillValid (): boolean {
    return !this.released && !this.lost
  }

  /**
   * The write goes over the connection that holds the lock, so a lost connection takes the lock
   * and the uncommitted write down together; the lock is not let go while the write runs.
   */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const remainingMs = this.deadline - Date.now()
    if (!this.stillValid() || remainingMs <= 0) {
      throw new LockExpiredError(`lock ${this.lockId} for ${this.scope} expired or was lost before the write; nothing was written`)
    }
    const run = this.fenced(work, remainingMs)
    this.writing = run
    try {
      return await run
    } finally {
      this.writing = null
    }
  }

  async release (): Promise<void> {
    if (this.released) return
    this.released = true
    clearTimeout(this.timer)
    await this.writing?.catch(() => {})
    try {
      if (!this.lost) await this.client.query(UNLOCK_SQL, [this.lockId, this.scope])
    } catch {
      this.lost = true
    } finally {
      this.client.off('error', this.onConnectionError)
      // A connection in doubt is closed rather than pooled: closing frees whatever it still holds.
      this.client.release(this.lost ? true : undefined)
    }
  }

  private async fenced<T>(work: (tx: Queryable) => Promise<T>, remainingMs: number): Promise<T> {
    const tx = queryableOf(this.client)
    try {
      await tx.query('BEGIN')
      // No statement may run past the lifetime: a write that would is cancelled and rolled back.
      await tx.query(`SET LOCAL statement_timeout = ${Math.ceil(remainingMs)}`)
      const [row] = await tx.query<{ held: boolean }>(HOLDS_LOCK_SQL, [this.lockId, this.scope])
      if (row?.held !== true) throw new LockExpiredError(`lock ${this.lockId} for ${this.scope} is no longer held; nothing was written`)
      const result = await work(tx)
      await tx.query('COMMIT')
      return result
    } catch (error) {
      // A connection that failed under the write took the lock with it, whether or not its
      // 'error' event has come yet.
      if (error instanceof DatabaseUnavailableError) this.lost = true
      await tx.query('ROLLBACK').catch(() => {})
      if ((error as { code?: unknown }).code === QUERY_CANCELED) {
        throw new LockExpiredError(`the write of lock ${this.lockId} for ${this.scope} outlasted its lifetime; nothing was written`, { cause: error })
      }
      throw error
    }
  }
}

/**
 * Session-level advisory locks `(lock id, hashtext(scope))`, each held on a connection of its own:
 * if the holder dies, its connection closes and Postgres frees the lock, so no lease table is
 * needed. The lock is let go when its lifetime runs out; `stillValid()` turns false then, or as
 * soon as the connection is lost.
 */
export class PostgresLockFactory implements LockFactory {
  private readonly pool: pg.Pool

  constructor (options: PostgresLockFactoryOptions) {
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 16,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    })
    this.pool.on('error', () => {})
  }

  async acquire (lockId: LockID, scope: string, options: LockOptions): Promise<LockHandle> {
    let client: pg.PoolClient
    let locked: boolean | undefined
    try {
      client = await this.pool.connect()
    } catch (error) {
      throw new DatabaseUnavailableError(`cannot reach the database for lock ${lockId}: ${(error as Error).message}`, { cause: error })
    }
    const ignore = (): void => {}
    client.on('error', ignore)
    try {
      locked = (await client.query<{ locked: boolean }>(TRY_LOCK_SQL, [lockId, scope])).rows[0]?.locked
    } catch (error) {
      client.release(true)
      throw new DatabaseUnavailableError(`cannot take lock ${lockId} for ${scope}: ${(error as Error).message}`, { cause: error })
    } finally {
      client.off('error', ignore)
    }
    if (locked !== true) {
      client.release()
      throw new LockBusyError(lockId, scope)
    }
    return new AdvisoryLock(client, lockId, scope, options.lifetimeMs)
  }

  async close (): Promise<void> {
    await this.pool.end()
  }
}
