import type { KernelId } from './kernel-info.js'
import type { KernelStatus } from './kernel-status.js'

/** One kernel's outcome in a handler run; `reason` is null on successes. */
export interface KernelTransitionInfo {
  readonly kernelId: KernelId
  readonly fromStatus: KernelStatus
  readonly reason: string | null
}

/** Why stage 2 could not get a verdict for a suspect kernel (contract §2 rule 3). */
export const SkipCause = {
  NO_AGENT: 'no_agent',
  AGENT_TIMEOUT: 'agent_timeout',
  AGENT_MISMATCH: 'agent_mismatch',
  AGENT_ERROR: 'agent_error',
} as const

export type SkipCause = typeof SkipCause[keyof typeof SkipCause]

export interface SkippedKernel {
  readonly kernelId: KernelId
  readonly cause: SkipCause
}

/**
 * What a handler decided (the contract's HandlerResult). Every kernel handed to the handler is in
 * exactly one of `successes` and `failures`, in input order. `skipped` annotates successes whose
 * liveness could not be verified: they stay as they are, and the sweep record says why.
 */
export interface KernelExecutionResult {
  readonly successes: readonly KernelTransitionInfo[]
  readonly failures: readonly KernelTransitionInfo[]
  readonly skipped: readonly SkippedKernel[]
}

/** Target status per outcome; `null` keeps the kernel's current status. */
export interface KernelStatusTransitions {
  readonly success: KernelStatus | null
  readonly failure: KernelStatus | null
}

export const EMPTY_RESULT: KernelExecutionResult = Object.freeze({
  successes: Object.freeze([]),
  failures: Object.freeze([]),
  skipped: Object.freeze([]),
})
