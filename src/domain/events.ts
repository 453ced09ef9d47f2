import type { SweepOutcome, SweepRecord } from './sweep.js'

/** What the event log reports (rule 15): a termination, a recorded sweep, a completed decommissioning. */
export const EventType = {
  KERNEL_TERMINATED: 'kernel.terminated',
  SWEEP_FINISHED: 'sweep.finished',
  AGENT_DECOMMISSIONED: 'agent.decommissioned',
} as const

export type EventType = typeof EventType[keyof typeof EventType]

export const EVENT_TYPES: readonly EventType[] = Object.freeze(Object.values(EventType))

/**
 * One committed entry of the event log. `id` is the decimal text of a 64-bit integer, strictly
 * increasing in commit order; `data` is the CloudEvent's data as contract §3 spells it.
 */
export interface LoggedEvent {
  readonly id: string
  readonly type: EventType
  /** The kernel, sweep or agent the event is about. */
  readonly subject: string
  readonly time: Date
  readonly data: Readonly<Record<string, unknown>>
}

/** What a recorded sweep reports in its `sweep.finished` event (the last four are counts). */
export interface SweepSummary {
  readonly sweepId: string
  readonly scalingGroup: string
  readonly handler: string
  readonly outcome: SweepOutcome
  readonly dryRun: boolean
  readonly forced: boolean
  readonly kernels: number
  readonly failures: number
  readonly terminated: number
  readonly skipped: number
}

/** The `sweep.finished` summary of a recorded sweep. */
export function sweepSummaryOf (sweep: SweepRecord): SweepSummary {
  return {
    sweepId: sweep.sweepId,
    scalingGroup: sweep.scalingGroup,
    handler: sweep.handler,
    outcome: sweep.outcome,
    dryRun: sweep.dryRun,
    forced: sweep.forced,
    kernels: sweep.result.successes.length + sweep.result.failures.length,
    failures: sweep.result.failures.length,
    terminated: sweep.terminated.length,
    skipped: sweep.result.skipped.length,
  }
}
