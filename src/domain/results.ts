import type { AgentId, KernelId } from './kernel-info.js'
import type { KernelStatus } from './kernel-status.js'

/** One kernel's outcome in a handler run; `reason` is null on successes. */
export interface KernelTransitionInfo {
  readonly kernelId: KernelId
  readonly fromStatus: KernelStatus
  readonly reason: string | null
}

/** Why a suspect kernel is left alone: stage 2 gave no verdict (rule 3), or it is not yet confirmed (rule 11). */
export const SkipCause = {
  NO_AGENT: 'no_agent',
  AGENT_TIMEOUT: 'agent_timeout',
  AGENT_MISMATCH: 'agent_mismatch',
  AGENT_ERROR: 'agent_error',
  /** The kernel's agent is decommissioned: never asked (rule 14). */
  AGENT_DECOMMISSIONED: 'agent_decommissioned',
  /** The agent said "not running", but fewer sweeps in a row than `SWEEP_CONFIRMATIONS` (rule 11). */
  AWAITING_CONFIRMATION: 'awaiting_confirmation',
} as const

export type SkipCause = typeof SkipCause[keyof typeof SkipCause]

export interface SkippedKernel {
  readonly kernelId: KernelId
  readonly cause: SkipCause
  /** With `awaiting_confirmation`: how many sweeps in a row have now confirmed it dead. */
  readonly confirmations?: number
}

/**
 * What a handler learned of agents, or decided about them; the coordinator writes it with a real
 * sweep (rules 12 and 14), never with a dry run.
 */
export interface AgentEffects {
  /** Agents that answered at least one call as themselves. */
  readonly reached: readonly AgentId[]
  /** Agents every call to which was refused, reset, timed out, or answered 404 or for another agent. */
  readonly unreachable: readonly AgentId[]
  /** Agents whose decommissioning completes when the sweep does. */
  readonly decommissioned: readonly AgentId[]
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
  readonly agents?: AgentEffects
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
