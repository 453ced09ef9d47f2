/** The channel every instance notifies when its events commit; the payload is the newest id. */
export const EVENT_CHANNEL = 'kernel_sweeper_events'

/**
 * Wakes readers waiting for new events (the long-poll and the stream), whichever instance
 * committed them.
 */
export interface EventNotifier {
  /**
   * Resolves true when events commit after this call, false after `timeoutMs` or once `signal`
   * aborts. The waiter is registered before it returns, so a caller can call it, then read, then
   * await it without missing a commit that lands in between. True is also given when listening
   * (re)starts, as a commit before it went unseen: the caller reads again either way.
   */
  nextCommit (timeoutMs: number, signal?: AbortSignal): Promise<boolean>
  /** Stops listening; waiters resolve false. */
  close (): Promise<void>
}

/** The waiters of one notifier: each resolves once, by a wake-up, its timeout or its signal. */
export class CommitWaiters {
  private readonly waiting = new Set<(committed: boolean) => void>()
  private closed = false

  wait (timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.closed || signal?.aborted === true) return Promise.resolve(false)
    return new Promise((resolve) => {
      const finish = (committed: boolean): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.waiting.delete(finish)
        resolve(committed)
      }
      const onAbort = (): void => { finish(false) }
      const timer = setTimeout(finish, timeoutMs, false)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.add(finish)
    })
  }

  /** Resolves every waiter registered so far. */
  wakeAll (committed = true): void {
    for (const finish of [...this.waiting]) finish(committed)
  }

  /** Resolves every waiter false, and every later one at once. */
  close (): void {
    this.closed = true
    this.wakeAll(false)
  }
}
