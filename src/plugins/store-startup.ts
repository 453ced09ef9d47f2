import pRetry from 'p-retry'
import type { Logger } from '../logger.js'

/** What went wrong in the end, without the wrappers' prefixes ("database unavailable: …"). */
function rootMessage (error: unknown): string {
  let root = error as Error
  while (root.cause instanceof Error) root = root.cause
  return root.message
}

/** A store that did not answer within `STARTUP_TIMEOUT_SEC`: the start stops, with this one line. */
export class StoreUnavailableAtStartError extends Error {
  constructor (readonly store: string, location: string, timeoutSec: number, cause: unknown) {
    super(`${store} (${location}) did not answer within ${timeoutSec} s: ${rootMessage(cause)}`, { cause })
    this.name = 'StoreUnavailableAtStartError'
  }
}

export interface StoreStartup {
  /** `database` or `presence`, as `/readyz` and `/metrics` name them. */
  readonly store: string
  /** Where it is, without credentials. */
  readonly location: string
  /** Resolves once the store answers. */
  readonly probe: () => Promise<unknown>
  readonly timeoutSec: number
  readonly logger: Pick<Logger, 'warn'>
}

/**
 * Waits for a store to answer, trying again with backoff (a quarter of a second, doubling to two
 * seconds) until `timeoutSec` has passed — in a compose file or a pod the service often starts
 * before its database. Says so once, not at every attempt; throws `StoreUnavailableAtStartError`
 * when the time is up. With 0, one attempt.
 */
export async function waitForStore ({ store, location, probe, timeoutSec, logger }: StoreStartup): Promise<void> {
  try {
    await pRetry(probe, {
      retries: timeoutSec === 0 ? 0 : Number.POSITIVE_INFINITY,
      maxRetryTime: timeoutSec * 1000,
      minTimeout: 250,
      maxTimeout: 2_000,
      factor: 2,
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (attemptNumber === 1 && timeoutSec > 0) {
          logger.warn({ store, location, err: rootMessage(error) }, `${store} does not answer; trying again for up to ${timeoutSec} s`)
        }
      },
    })
  } catch (error) {
    throw new StoreUnavailableAtStartError(store, location, timeoutSec, error)
  }
}
