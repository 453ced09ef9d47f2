import type { LoggedEvent } from '../domain/events.js'
import type { EventNotifier } from '../persistence/event-notifier.js'
import type { EventPageQuery, EventRepository } from '../persistence/event-repository.js'
import { eventFrame } from './event-wire.js'

/**
 * Reading the event log as it grows, for the long-poll and the stream (rule 15, contract §3).
 *
 * Every read registers its wait for the next commit *before* it queries: a commit that lands
 * between the query and the wait still wakes the reader, so no event is left waiting for the
 * next one (or the timeout) to be seen.
 */

/** The persistence's event log and its commit notifications. */
export interface EventLog {
  readonly events: Pick<EventRepository, 'page'>
  readonly eventNotifier: Pick<EventNotifier, 'nextCommit'>
}

/** Events per query of the stream: a reader far behind catches up a page at a time. */
export const STREAM_PAGE_SIZE = 1000

interface Watch {
  /** The events read; null when some after the cursor were pruned. */
  readonly page: LoggedEvent[] | null
  /** True on a commit after the read was started; false on the timeout or the signal. */
  readonly committed: Promise<boolean>
  /** Releases the wait when `committed` will not be awaited. */
  cancel (): void
}

async function readAndWatch (log: EventLog, query: EventPageQuery, timeoutMs: number, signal: AbortSignal): Promise<Watch> {
  const own = new AbortController()
  const committed = log.eventNotifier.nextCommit(timeoutMs, AbortSignal.any([signal, own.signal]))
  const cancel = (): void => { own.abort() }
  try {
    return { page: await log.events.page(query), committed, cancel }
  } catch (error) {
    cancel()
    throw error
  }
}

/**
 * The page after `query.after`; when it is empty, waits up to `waitMs` for a commit and reads
 * again, so the answer comes as soon as there is something to give. Empty after `waitMs`, or at
 * once when `signal` aborts (the client left, the server closes). Null: the cursor expired.
 */
export async function pollEvents (log: EventLog, query: EventPageQuery, waitMs: number, signal: AbortSignal): Promise<LoggedEvent[] | null> {
  const deadline = Date.now() + waitMs
  for (;;) {
    const remaining = deadline - Date.now()
    if (remaining <= 0 || signal.aborted) return log.events.page(query)
    const watch = await readAndWatch(log, query, remaining, signal)
    if (watch.page === null || watch.page.length > 0) {
      watch.cancel()
      return watch.page
    }
    // A commit of other types (or a spurious wake-up) reads again within what is left of the wait.
    if (!await watch.committed) return watch.page
  }
}

export interface StreamStart {
  /** The last event the client has; the stream gives those after it. */
  readonly after: string
  readonly types: EventPageQuery['types']
  /** How long the stream may go without a comment line, so proxies keep an idle stream open. */
  readonly keepAliveMs: number
  /** Ends the stream: the client left or the server closes. */
  readonly signal: AbortSignal
}

/**
 * The Server-Sent Events text of the log from `start.after` on, or null when that cursor has
 * expired. The first page is read here, before any of the answer is sent, so that an expired
 * cursor or a database that is down is still a problem answer (410, 503) rather than a stream
 * that breaks off.
 */
export async function openEventStream (log: EventLog, start: StreamStart): Promise<AsyncGenerator<string> | null> {
  const first = await readAndWatch(log, { after: start.after, types: start.types, limit: STREAM_PAGE_SIZE }, start.keepAliveMs, start.signal)
  if (first.page === null) {
    first.cancel()
    return null
  }
  return eventStreamText(log, start, first)
}

async function * eventStreamText (log: EventLog, start: StreamStart, first: Watch): AsyncGenerator<string> {
  const { types, keepAliveMs, signal } = start
  let after = start.after
  let watch = first
  let keepAliveDue = Date.now() + keepAliveMs
  try {
    // Sent at once, so the client has the answer's headers without waiting for an event.
    yield ': kernel-sweeper events\n\n'
    for (;;) {
      // Pruned past this reader while it was behind: end the stream; reconnecting gets the 410.
      if (watch.page === null) return
      if (watch.page.length > 0) {
        watch.cancel()
        after = watch.page[watch.page.length - 1]!.id
        yield watch.page.map(eventFrame).join('')
      } else {
        await watch.committed
      }
      if (signal.aborted) return
      if (Date.now() >= keepAliveDue) {
        yield ': keep-alive\n\n'
        keepAliveDue = Date.now() + keepAliveMs
      }
      watch = await readAndWatch(log, { after, types, limit: STREAM_PAGE_SIZE }, Math.max(1, keepAliveDue - Date.now()), signal)
    }
  } finally {
    watch.cancel()
  }
}
