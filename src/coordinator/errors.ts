import { DatabaseUnavailableError } from '../persistence/database.js'
import { LockExpiredError } from '../persistence/locks/lock-factory.js'
import { PresenceUnavailableError } from '../presence/presence-store.js'

/** The service is shutting down; the sweep stopped before writing anything. */
export class ShuttingDownError extends Error {
  override readonly name = 'ShuttingDownError'
}

/** A sweep that ran and failed; it is recorded under `sweepId`, and `cause` says why. */
export class SweepFailedError extends Error {
  override readonly name = 'SweepFailedError'

  constructor (readonly sweepId: string, override readonly cause: unknown) {
    super(`sweep ${sweepId} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}

/** The faults a sweep is built to meet (a store down, its lock lost, shutdown): logged by their message, without a stack. */
export function isExpectedFault (error: unknown): boolean {
  return error instanceof PresenceUnavailableError || error instanceof DatabaseUnavailableError ||
    error instanceof LockExpiredError || error instanceof ShuttingDownError
}
