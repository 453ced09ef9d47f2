import type { LockID } from '../../domain/lock-id.js'
import type { Queryable } from '../database.js'

/** Someone else holds the lock: answered at once, never waited for. */
export class LockBusyError extends Error {
  override readonly name = 'LockBusyError'

  constructor (readonly lockId: LockID, readonly scope: string) {
    super(`lock ${lockId} for ${scope} is held by another sweep`)
  }
}

/** The lock's lifetime ran out, or its connection was lost, before the write: nothing was written. */
export class LockExpiredError extends Error {
  override readonly name = 'LockExpiredError'
}

export interface LockHandle {
  /** False once the lifetime ran out or the lock was lost; work done after that must not be written. */
  stillValid (): boolean
  /**
   * Runs `work` in one transaction that commits only while the lock is held (contract §2 rule 6):
   * checked right before it starts, and the lock is not let go until it ends. Throws
   * `LockExpiredError`, writing nothing, when the lock is no longer valid.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>
  release (): Promise<void>
}

export interface LockOptions {
  /** After this long the lock is released on its own, so a stuck holder cannot block a group forever. */
  readonly lifetimeMs: number
}

/** Port: one lock per (lock id, scope), e.g. (233, scaling group). */
export interface LockFactory {
  acquire (lockId: LockID, scope: string, options: LockOptions): Promise<LockHandle>
  close (): Promise<void>
}
