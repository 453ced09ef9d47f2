import { CommitWaiters, EVENT_CHANNEL, type EventNotifier } from './event-notifier.js'
import type { PGliteDatabase } from './pglite-database.js'

/**
 * Embedded mode: the one PGlite session both notifies and listens, in process. LISTEN takes
 * effect a little after the notifier is made (PGlite may run a transaction queued meanwhile
 * first), so once it has, every waiter is woken to look again, as in the Postgres adapter.
 */
export class PGliteEventNotifier implements EventNotifier {
  private readonly waiters = new CommitWaiters()
  private readonly listening: Promise<() => Promise<void>>

  constructor (db: PGliteDatabase) {
    this.listening = db.listen(EVENT_CHANNEL, () => { this.waiters.wakeAll() })
    // Only a closed database refuses LISTEN; waiters then time out, and close() has nothing to undo.
    this.listening.then(() => { this.waiters.wakeAll() }, () => {})
  }

  nextCommit (timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.waiters.wait(timeoutMs, signal)
  }

  async close (): Promise<void> {
    this.waiters.close()
    await this.listening.then((unlisten) => unlisten(), () => {})
  }
}
