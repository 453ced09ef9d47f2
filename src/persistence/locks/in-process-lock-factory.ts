import type { LockID } from '../../domain/lock-id.js'
import { LockBusyError, type LockFactory, type LockHandle, type LockOptions } from './lock-factory.js'

/** Locks for embedded mode, where one process owns the database (PGlite's advisory locks always succeed). */
export class InProcessLockFactory implements LockFactory {
  private readonly held = new Map<string, () => void>()

  async acquire (lockId: LockID, scope: string, options: LockOptions): Promise<LockHandle> {
    const key = `${lockId}:${scope}`
    if (this.held.has(key)) throw new LockBusyError(lockId, scope)

    let valid = true
    const free = (): void => {
      if (!valid) return
      valid = false
      clearTimeout(timer)
      this.held.delete(key)
    }
    const timer = setTimeout(free, options.lifetimeMs)
    timer.unref()
    this.held.set(key, free)
    return { stillValid: () => valid, release: async () => { free() } }
  }

  async close (): Promise<void> {
    for (const free of [...this.held.values()]) free()
  }
}
