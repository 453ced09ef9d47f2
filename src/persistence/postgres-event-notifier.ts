import type pg from 'pg'
import type { Logger } from '../logger.js'
import { CommitWaiters, EVENT_CHANNEL, type EventNotifier } from './event-notifier.js'

export interface PostgresEventNotifierOptions {
  /** A new, unconnected client, each time the listening connection is made. */
  readonly newClient: () => pg.Client
  readonly logger: Logger
  /** Wait before the first reconnection; doubled after each failure up to `maxRetryMs`. */
  readonly firstRetryMs?: number
  readonly maxRetryMs?: number
}

/**
 * `LISTEN kernel_sweeper_events` on one dedicated connection, so a commit by any instance wakes
 * this one's readers. It connects at the first wait and stays until `close()`; a dropped connection
 * is made again with a backoff, waiters timing out meanwhile. Whenever listening (re)starts, every
 * waiter is woken: a commit while nobody listened went unseen, so readers must look again.
 */
export class PostgresEventNotifier implements EventNotifier {
  private readonly waiters = new CommitWaiters()
  private readonly firstRetryMs: number
  private readonly maxRetryMs: number
  private client: pg.Client | null = null
  private started = false
  private closed = false
  private failures = 0
  private retry: NodeJS.Timeout | null = null

  constructor (private readonly options: PostgresEventNotifierOptions) {
    this.firstRetryMs = options.firstRetryMs ?? 100
    this.maxRetryMs = options.maxRetryMs ?? 5_000
  }

  nextCommit (timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const waiting = this.waiters.wait(timeoutMs, signal)
    if (!this.started && !this.closed) {
      this.started = true
      this.listen()
    }
    return waiting
  }

  async close (): Promise<void> {
    this.closed = true
    this.waiters.close()
    if (this.retry !== null) clearTimeout(this.retry)
    const client = this.client
    this.client = null
    await client?.end().catch(() => {})
  }

  private listen (): void {
    const client = this.options.newClient()
    this.client = client
    client.on('notification', (message) => { if (message.channel === EVENT_CHANNEL) this.waiters.wakeAll() })
    client.on('error', (error) => { this.lost(client, error) })
    client.on('end', () => { this.lost(client, new Error('the connection ended')) })
    client.connect()
      .then(() => client.query(`LISTEN ${EVENT_CHANNEL}`))
      .then(() => {
        if (this.client !== client) return
        this.failures = 0
        this.waiters.wakeAll()
      }, (error: unknown) => { this.lost(client, error) })
  }

  /** Drops `client` (once, and only while it is the current one) and schedules the next attempt. */
  private lost (client: pg.Client, error: unknown): void {
    if (this.client !== client) return
    this.client = null
    client.end().catch(() => {})
    if (this.closed) return
    const retryInMs = Math.min(this.firstRetryMs * 2 ** this.failures, this.maxRetryMs)
    this.failures++
    this.options.logger.warn({ err: error, retryInMs }, 'event notifications: the listening connection failed or was lost; connecting again')
    this.retry = setTimeout(() => {
      this.retry = null
      this.listen()
    }, retryInMs)
  }
}
