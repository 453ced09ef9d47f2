import type { AgentReachabilityReport } from '../domain/agent.js'
import type { KernelId } from '../domain/kernel-info.js'
import type { KernelPages } from '../domain/kernel-pages.js'
import type { SkippedKernel } from '../domain/results.js'

export interface StaleKernelCheck {
  /** Kernels confirmed dead by their own agent, in input order. */
  readonly deadKernelIds: readonly KernelId[]
  /** Suspects whose agent is lost (rule 13): dead too, for another reason, in input order. */
  readonly lostKernelIds: readonly KernelId[]
  /** What the check learned of the agents it asked (rule 12). */
  readonly reachability: AgentReachabilityReport
  /** Suspects that could not be verified and so are left alone, in input order. */
  readonly skipped: readonly SkippedKernel[]
}

/** The port the sweep handler depends on (the terminator's check, as in the seed). */
export interface StaleKernelChecker {
  /**
   * Stage 1 starts on each page of `kernels` as it arrives. When `signal` aborts (the service shutting down), no further agent is asked, the calls in
   * flight are abandoned, and the check rejects with `signal.reason`: no verdict, no skips.
   */
  checkStaleKernels (kernels: KernelPages, signal?: AbortSignal): Promise<StaleKernelCheck>
}
