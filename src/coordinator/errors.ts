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
