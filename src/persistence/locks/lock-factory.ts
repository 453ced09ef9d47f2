import type { LockID } from '../../domain/lock-id.js'

/** Someone else holds the lock: answered at once, never waited for. */
export class LockBusyError extends Error {
  override readonly name = 'LockBusyError'

  constructor (readonly lockId: LockID, readonly scope: string) {
    super(`lock ${lockId} for ${scope} is held by another sweep`)
  }
}

export interface LockHandle {
  /** False once the lifetime ran out or the lock was lost; work done after that must not be written. */
  stillValid (): boolean
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
