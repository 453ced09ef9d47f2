import { KernelStatus } from '../domain/kernel-status.js'
import type { KernelLifecycleHandler } from '../handlers/kernel-lifecycle-handler.js'
import type { Logger } from '../logger.js'
import { LockBusyError } from '../persistence/locks/lock-factory.js'
import type { KernelRepository } from '../persistence/kernel-repository.js'
import type { SweepRepository } from '../persistence/sweep-repository.js'
import type { ScheduleCoordinator } from './schedule-coordinator.js'

export interface BackgroundSweeperOptions {
  readonly coordinator: ScheduleCoordinator
  readonly handler: KernelLifecycleHandler
  readonly kernels: Pick<KernelRepository, 'scalingGroupsWith'>
  readonly sweeps: Pick<SweepRepository, 'pruneFinishedBefore'>
  readonly intervalMs: number
  readonly initialDelayMs: number
  readonly retentionMs: number
  readonly logger: Logger
}

/**
 * Sweeps every scaling group that has RUNNING kernels, once per interval, and prunes old sweep
 * records. A group another instance is sweeping is skipped quietly; a group swept by anyone
 * within most of the interval is not swept again.
 */
export class BackgroundSweeper {
  private timer: NodeJS.Timeout | undefined
  private tick: Promise<void> | undefined
  private stopped = false

  constructor (private readonly options: BackgroundSweeperOptions) {}

  start (): void {
    this.schedule(this.options.initialDelayMs)
  }

  /** Stops the timer and waits for a tick under way. */
  async stop (): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.tick
  }

  /** One pass over every group; exposed so tests need not wait for timers. */
  async runOnce (): Promise<void> {
    const { coordinator, handler, kernels, sweeps, intervalMs, retentionMs, logger } = this.options
    const groups = await kernels.scalingGroupsWith([KernelStatus.RUNNING])
    // Timers drift between instances; a group swept in the last 80 % of a period counts as swept.
    const dueAfterMs = intervalMs * 0.8
    for (const group of groups) {
      if (this.stopped) return
      await coordinator.sweepIfDue(handler, group, dueAfterMs).catch((error: unknown) => {
        if (error instanceof LockBusyError) logger.debug({ scaling_group: group }, 'group busy; skipped this tick')
        else logger.warn({ err: error, scaling_group: group }, 'background sweep failed')
      })
    }
    const pruned = await sweeps.pruneFinishedBefore(new Date(Date.now() - retentionMs))
    if (pruned > 0) logger.info({ pruned }, 'old sweep records pruned')
  }

  private schedule (delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.tick = this.runOnce()
        .catch((error: unknown) => { this.options.logger.warn({ err: error }, 'background sweep pass failed') })
        .finally(() => { this.schedule(this.options.intervalMs) })
    }, delayMs)
    this.timer.unref()
  }
}
