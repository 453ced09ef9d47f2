import pg from 'pg'
import type { LockID } from '../../domain/lock-id.js'
import { DatabaseUnavailableError } from '../database.js'
import { LockBusyError, type LockFactory, type LockHandle, type LockOptions } from './lock-factory.js'

export interface PostgresLockFactoryOptions {
  readonly connectionString: string
  readonly maxConnections?: number
  readonly connectionTimeoutMs?: number
}

const TRY_LOCK_SQL = 'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked'
const UNLOCK_SQL = 'SELECT pg_advisory_unlock($1, hashtext($2))'

/** A held advisory lock and the connection that holds it. */
class AdvisoryLock implements LockHandle {
  private released = false
  private lost = false
  private readonly timer: NodeJS.Timeout
  private readonly onConnectionError = (): void => { this.lost = true }

  constructor (
    private readonly client: pg.PoolClient,
    private readonly lockId: LockID,
    private readonly scope: string,
    lifetimeMs: number
  ) {
    client.on('error', this.onConnectionError)
    this.timer = setTimeout(() => { this.release().catch(() => {}) }, lifetimeMs)
    this.timer.unref()
  }

  stillValid (): boolean {
    return !this.released && !this.lost
  }

  async release (): Promise<void> {
    if (this.released) return
    this.released = true
    clearTimeout(this.timer)
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
