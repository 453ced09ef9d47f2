import type { ScheduleType } from '../domain/schedule-type.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { PresenceStore } from '../presence/presence-store.js'

export interface ScheduleMarkerOptions {
  readonly store: Pick<PresenceStore, 'markSchedulesNeeded'>
  readonly logger: Logger
  readonly metrics: Metrics
  readonly firstRetryMs?: number
  readonly maxRetryMs?: number
}

/**
 * Sets schedule marks after terminations were committed. The terminations stand whatever
 * happens here, so a failed mark is logged, counted and retried in the background until it is
 * set (contract §2 rule 5), instead of failing the sweep.
 */
export class ScheduleMarker {
  private readonly pending = new Set<ScheduleType>()
  private timer: NodeJS.Timeout | undefined
  private delayMs: number
  private closed = false

  constructor (private readonly options: ScheduleMarkerOptions) {
    this.delayMs = options.firstRetryMs ?? 500
  }

  /** Resolves once the mark is set or queued for retry; never rejects. */
  async mark (types: readonly ScheduleType[]): Promise<void> {
    if (types.length === 0) return
    try {
      await this.options.store.markSchedulesNeeded(types)
    } catch (error) {
      this.failed(types, error)
    }
  }

  /** Stops retrying, after one last attempt for marks still pending (logged if it fails too). */
  async close (): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    const types = [...this.pending]
    if (types.length === 0) return
    await this.options.store.markSchedulesNeeded(types).then(
      () => { this.pending.clear() },
      (error: unknown) => { this.options.logger.error({ err: error, schedule_types: types }, 'schedule mark still not set at shutdown') }
    )
  }

  private failed (types: readonly ScheduleType[], error: unknown): void {
    this.options.metrics.scheduleMarkFailures.inc()
    this.options.logger.error({ err: error, schedule_types: types }, 'schedule mark not set; retrying in the background')
    for (const type of types) this.pending.add(type)
    this.scheduleRetry()
  }

  private scheduleRetry (): void {
    if (this.timer !== undefined || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      const types = [...this.pending]
      this.options.store.markSchedulesNeeded(types).then(() => {
        for (const type of types) this.pending.delete(type)
        this.delayMs = this.options.firstRetryMs ?? 500
        this.options.logger.info({ schedule_types: types }, 'schedule mark set after retry')
      }, (error: unknown) => {
        this.options.metrics.scheduleMarkFailures.inc()
        this.options.logger.warn({ err: error, schedule_types: types }, 'schedule mark retry failed')
        this.delayMs = Math.min(this.delayMs * 2, this.options.maxRetryMs ?? 30_000)
        this.scheduleRetry()
      })
    }, this.delayMs)
    this.timer.unref()
  }
}
