import type { KernelId } from './kernel-info.js'
import type { KernelExecutionResult } from './results.js'

export const SweepOutcome = {
  COMPLETED: 'completed',
  DRY_RUN: 'dry_run',
  GUARD_TRIPPED: 'guard_tripped',
  FAILED: 'failed',
} as const

export type SweepOutcome = typeof SweepOutcome[keyof typeof SweepOutcome]

/** Everything one sweep did, kept so it can be read back by id (contract §2 rule 10). */
export interface SweepRecord {
  readonly sweepId: string
  readonly scalingGroup: string
  readonly handler: string
  readonly dryRun: boolean
  readonly forced: boolean
  readonly outcome: SweepOutcome
  readonly startedAt: Date
  readonly finishedAt: Date
  readonly result: KernelExecutionResult
  /** Kernels whose status this sweep changed. */
  readonly terminated: readonly KernelId[]
  /** Why a failed sweep failed; null otherwise. */
  readonly error: string | null
}
