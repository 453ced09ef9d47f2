import type { Logger } from '../logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { ScheduleMarkNeedRepository } from '../persistence/schedule-mark-need-repository.js'
import type { PresenceStore } from '../presence/presence-store.js'

export interface ScheduleMarkerOptions {
  readonly store: Pick<PresenceStore, 'markSchedulesNeeded'>
  /** The marks committed sweeps need (rule 5), written in their transactions. */
  readonly needs: Pick<ScheduleMarkNeedRepository, 'pending' | 'clear'>
  readonly logger: Logger
  readonly metrics: Metrics
  readonly firstRetryMs?: number
  readonly maxRetryMs?: number
}

/**
 * Sets the schedule marks that committed sweeps need (contract §2 rule 5). The need is in the
 * database, committed with the terminations; here the mark is set in Valkey and only then the need
 * cleared. The terminations stand whatever happens here, so a failed mark is logged, counted and
 * retried in the background until it is set, instead of failing the sweep; and a need left by a
 * crash or a restart is met at the next start (`markNeeded` from the start-up hook).
 */
export class ScheduleMarker {
  private timer: NodeJS.Timeout | undefined
  private delayMs: number
  private closed = false

  constructor (private readonly options: ScheduleMarkerOptions) {
    this.delayMs = options.firstRetryMs ?? 500
  }

  /** Sets every mark still needed. Resolves once they are set or their retry is scheduled; never rejects. */
  async markNeeded (): Promise<void> {
    try {
      await this.setNeededMarks()
    } catch (error) {
      this.options.metrics.scheduleMarkFailures.inc()
      this.options.logger.error({ err: error }, 'schedule mark not set; retrying in the background')
      this.scheduleRetry()
    }
  }

  /** Stops retrying, after one last attempt if a retry was pending (the need stays in the database if it fails). */
  async close (): Promise<void> {
    this.closed = true
    if (this.timer === undefined) return
    clearTimeout(this.timer)
    this.timer = undefined
    await this.setNeededMarks().catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'schedule mark still not set at shutdown; the next start sets it')
    })
  }

  private async setNeededMarks (): Promise<void> {
    const needs = await this.options.needs.pending()
    if (needs.length === 0) return
    await this.options.store.markSchedulesNeeded([...new Set(needs.map((need) => need.type))])
    await this.options.needs.clear(needs)
  }

  private scheduleRetry (): void {
    if (this.timer !== undefined || this.closed) return
    this.timer = setTimeout(() => {
      this.setNeededMarks().then(() => {
        this.timer = undefined
        this.delayMs = this.options.firstRetryMs ?? 500
        this.options.logger.info('schedule marks set after retry')
      }, (error: unknown) => {
        this.timer = undefined
        this.options.metrics.scheduleMarkFailures.inc()
        this.options.logger.warn({ err: error }, 'schedule mark retry failed')
        this.delayMs = Math.min(this.delayMs * 2, this.options.maxRetryMs ?? 30_000)
        this.scheduleRetry()
      })
    }, this.delayMs)
    this.timer.unref()
  }
}
