import type { LockID } from '../../domain/lock-id.js'
import type { Database, Queryable } from '../database.js'
import { LockBusyError, LockExpiredError, type LockFactory, type LockHandle, type LockOptions } from './lock-factory.js'

/**
 * Locks for embedded mode, where one process owns the database (PGlite's advisory locks always
 * succeed). Fenced writes are transactions of that one database, begun only while the lock is valid.
 */
export class InProcessLockFactory implements LockFactory {
  private readonly held = new Map<string, () => void>()

  constructor (private readonly db: Pick<Database, 'transaction'>) {}

  async acquire (lockId: LockID, scope: string, options: LockOptions): Promise<LockHandle> {
    const key = `${lockId}:${scope}`
    if (this.held.has(key)) throw new LockBusyError(lockId, scope)

    let valid = true
    let writing: Promise<unknown> | null = null
    const free = (): void => {
      if (!valid) return
      valid = false
      clearTimeout(timer)
      // A write under way keeps the lock until it ends, so nobody else sweeps the group meanwhile.
      if (writing === null) this.held.delete(key)
      else writing.finally(() => this.held.delete(key)).catch(() => {})
    }
    const timer = setTimeout(free, options.lifetimeMs)
    timer.unref()
    this.held.set(key, free)
    return {
      stillValid: () => valid,
      transaction: async <T>(work: (tx: Queryable) => Promise<T>): Promise<T> => {
        if (!valid) throw new LockExpiredError(`lock ${lockId} for ${scope} expired before the write; nothing was written`)
        const run = this.db.transaction(work)
        writing = run
        try {
          return await run
        } finally {
          writing = null
        }
      },
      release: async () => { free() },
    }
  }

  async close (): Promise<void> {
    for (const free of [...this.held.values()]) free()
  }
}
