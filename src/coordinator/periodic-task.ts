import type { Logger } from '../logger.js'

export interface PeriodicTaskOptions {
  readonly name: string
  readonly intervalMs: number
  readonly initialDelayMs: number
  readonly logger: Logger
}

/**
 * Runs `work` after an initial delay, then `intervalMs` after each run ends (runs never overlap).
 * A failed run is logged and the next one still comes; `stop()` waits for a run under way, which
 * sees its signal aborted and can end early.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private readonly stopping = new AbortController()

  constructor (private readonly work: (signal: AbortSignal) => Promise<void>, private readonly options: PeriodicTaskOptions) {}

  start (): void {
    this.schedule(this.options.initialDelayMs)
  }

  async stop (): Promise<void> {
    this.stopping.abort()
    clearTimeout(this.timer)
    await this.running
  }

  private schedule (delayMs: number): void {
    if (this.stopping.signal.aborted) return
    this.timer = setTimeout(() => {
      this.running = this.work(this.stopping.signal)
        .catch((error: unknown) => { this.options.logger.warn({ err: error, task: this.options.name }, 'periodic task failed') })
        .finally(() => { this.schedule(this.options.intervalMs) })
    }, delayMs)
    this.timer.unref()
  }
}
