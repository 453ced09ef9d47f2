import type { AgentId, KernelId } from './kernel-info.js'
import type { KernelStatus } from './kernel-status.js'

/** One kernel's outcome in a handler run; `reason` is null on successes. */
export interface KernelTransitionInfo {
  readonly kernelId: KernelId
  readonly fromStatus: KernelStatus
  readonly reason: string | null
}

/** What consecutive kernels of a `KernelTransitionRuns` share, and how many of them do. */
export interface TransitionRun {
  readonly fromStatus: KernelStatus
  readonly reason: string | null
  readonly count: number
}

/** Kernel outcomes in input order: an array, or the same list kept compact as `KernelTransitionRuns`. */
export type KernelTransitionList = Iterable<KernelTransitionInfo> & { readonly length: number }

/**
 * Kernel outcomes in input order, kept as their ids plus runs of what consecutive ones share:
 * a sweep's 100,000 successes (all from `RUNNING`, none with a reason) are one array of ids and
 * one run, not 100,000 objects. Iterating yields the objects, made one at a time.
 */
export class KernelTransitionRuns implements Iterable<KernelTransitionInfo> {
  readonly #kernelIds: KernelId[]
  readonly #runs: Array<{ fromStatus: KernelStatus, reason: string | null, count: number }>

  /** Empty, to `add` to; or the ids and runs as stored (their counts must add up to the ids). */
  constructor (kernelIds: KernelId[] = [], runs: readonly TransitionRun[] = []) {
    const counted = runs.reduce((sum, run) => sum + run.count, 0)
    if (counted !== kernelIds.length) throw new Error(`transition runs count ${counted} kernels for ${kernelIds.length} ids`)
    this.#kernelIds = kernelIds
    this.#runs = runs.map((run) => ({ ...run }))
  }

  /** `list` itself when it is already compact, else a compact copy. */
  static of (list: KernelTransitionList): KernelTransitionRuns {
    if (list instanceof KernelTransitionRuns) return list
    const runs = new KernelTransitionRuns()
    for (const info of list) runs.add(info.kernelId, info.fromStatus, info.reason)
    return runs
  }

  add (kernelId: KernelId, fromStatus: KernelStatus, reason: string | null): void {
    this.#kernelIds.push(kernelId)
    const last = this.#runs.at(-1)
    if (last !== undefined && last.fromStatus === fromStatus && last.reason === reason) last.count++
    else this.#runs.push({ fromStatus, reason, count: 1 })
  }

  get length (): number {
    return this.#kernelIds.length
  }

  get kernelIds (): readonly KernelId[] {
    return this.#kernelIds
  }

  get runs (): readonly TransitionRun[] {
    return this.#runs
  }

  * [Symbol.iterator] (): Iterator<KernelTransitionInfo> {
    let index = 0
    for (const { fromStatus, reason, count } of this.#runs) {
      for (const end = index + count; index < end; index++) yield { kernelId: this.#kernelIds[index]!, fromStatus, reason }
    }
  }
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
 * Successes are every kernel a sweep found alive, so they may be kept compact (`KernelTransitionRuns`);
 * failures and skips are suspects, each worth an agent call, and stay plain arrays.
 */
export interface KernelExecutionResult {
  readonly successes: KernelTransitionList
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
