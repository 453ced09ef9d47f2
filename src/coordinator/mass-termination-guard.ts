export interface GuardSettings {
  /** Trip when more than this share of the group's RUNNING kernels would die (`GUARD_MAX_RATIO`). */
  readonly maxRatio: number
  /** …and at least this many (`GUARD_MIN_KERNELS`), so small groups can still be swept clean. */
  readonly minKernels: number
}

export type GuardDecision = 'allow' | 'trip'

/**
 * Whether terminating `confirmedDead` of `running` kernels looks like an outage of the observers
 * rather than of the kernels (Kubernetes #12929: "everything is dead" usually means "I cannot
 * see"). Pure, so the boundaries are tested as a table.
 */
export function evaluateMassTerminationGuard (confirmedDead: number, running: number, settings: GuardSettings): GuardDecision {
  if (confirmedDead < settings.minKernels || running === 0) return 'allow'
  return confirmedDead / running > settings.maxRatio ? 'trip' : 'allow'
}
