import pLimit from 'p-limit'
import { AgentMismatchError, AgentTimeoutError } from '../agents/agent-errors.js'
import type { AgentClientPool } from '../agents/agent-client-pool.js'
import type { KernelId, KernelInfo } from '../domain/kernel-info.js'
import { isSuspectPresence } from '../domain/presence.js'
import { SkipCause, type SkippedKernel } from '../domain/results.js'
import type { Logger } from '../logger.js'
import type { PresenceChecker } from '../presence/presence-store.js'
import type { StaleKernelCheck, StaleKernelChecker } from './stale-kernel-checker.js'

export interface SessionTerminatorDeps {
  readonly presenceStore: PresenceChecker
  readonly agentClientPool: AgentClientPool
  /** Most agent calls in flight at once within one check (`AGENT_RPC_CONCURRENCY`). */
  readonly agentRpcConcurrency: number
  readonly logger: Logger
}

type Verdict =
  | { readonly kind: 'dead' }
  | { readonly kind: 'alive' }
  | { readonly kind: 'skipped', readonly cause: SkipCause, readonly error: string }

const ALIVE: Verdict = { kind: 'alive' }
const DEAD: Verdict = { kind: 'dead' }

function skipped (cause: SkipCause, error: string): Verdict {
  return { kind: 'skipped', cause, error }
}

function causeOf (error: unknown): SkipCause {
  if (error instanceof AgentTimeoutError) return SkipCause.AGENT_TIMEOUT
  if (error instanceof AgentMismatchError) return SkipCause.AGENT_MISMATCH
  return SkipCause.AGENT_ERROR
}

/**
 * The two-stage stale check. A kernel is dead only when its presence cannot vouch for it (stage 1)
 * and its own agent then says, explicitly, that it does not run (stage 2). Anything less certain
 * leaves the kernel alone: a false termination destroys running work, a missed one is retried by
 * the next sweep.
 */
export class SessionTerminator implements StaleKernelChecker {
  private readonly presenceStore: PresenceChecker
  private readonly agentClientPool: AgentClientPool
  private readonly agentRpcConcurrency: number
  private readonly logger: Logger

  constructor (deps: SessionTerminatorDeps) {
    if (!Number.isInteger(deps.agentRpcConcurrency) || deps.agentRpcConcurrency < 1) {
      throw new RangeError(`agentRpcConcurrency must be a positive integer, got ${deps.agentRpcConcurrency}`)
    }
    this.presenceStore = deps.presenceStore
    this.agentClientPool = deps.agentClientPool
    this.agentRpcConcurrency = deps.agentRpcConcurrency
    this.logger = deps.logger
  }

  async checkStaleKernels (kernels: readonly KernelInfo[], signal?: AbortSignal): Promise<StaleKernelCheck> {
    signal?.throwIfAborted()
    const suspects = await this.findSuspects(kernels)
    if (suspects.length === 0) return { deadKernelIds: [], skipped: [] }

    // A fresh limiter per check: the bound is per sweep, and sweeps of other groups do not queue
    // behind this one. Once the signal aborts, the calls still queued reject before asking anyone,
    // and the first rejection rejects the whole check.
    const limit = pLimit(this.agentRpcConcurrency)
    const verdicts = await limit.map(suspects, (kernel) => {
      signal?.throwIfAborted()
      return this.verifyWithAgent(kernel, signal)
    })

    const deadKernelIds: KernelId[] = []
    const skippedKernels: SkippedKernel[] = []
    suspects.forEach((kernel, index) => {
      const verdict = verdicts[index]
      if (verdict?.kind === 'dead') deadKernelIds.push(kernel.id)
      if (verdict?.kind === 'skipped') skippedKernels.push({ kernelId: kernel.id, cause: verdict.cause })
    })
    return { deadKernelIds, skipped: skippedKernels }
  }

  /** Stage 1: kernels whose presence is STALE or missing. Store errors propagate: no verdict without it. */
  private async findSuspects (kernels: readonly KernelInfo[]): Promise<readonly KernelInfo[]> {
    if (kernels.length === 0) return []
    const kernelIds = kernels.map((kernel) => kernel.id)
    const agentIds = [...new Set(kernels.flatMap((kernel) => kernel.agentId === null ? [] : [kernel.agentId]))]
    const statuses = await this.presenceStore.checkKernelPresenceStatusBatch(kernelIds, agentIds)
    return kernels.filter((kernel) => isSuspectPresence(statuses.get(kernel.id)))
  }

  /**
   * Stage 2, for one suspect. A failed check is a skip, never a death; it throws only the reason of
   * an aborted `signal`, which is no verdict on this kernel and so no warning about it.
   */
  private async verifyWithAgent (kernel: KernelInfo, signal: AbortSignal | undefined): Promise<Verdict> {
    const verdict = await this.askAgent(kernel, signal)
    if (verdict.kind === 'skipped') {
      this.logger.warn(
        { kernel_id: kernel.id, agent_id: kernel.agentId, cause: verdict.cause, err: verdict.error },
        'stale kernel %s left alone: %s', kernel.id, verdict.cause
      )
    }
    return verdict
  }

  private async askAgent (kernel: KernelInfo, signal: AbortSignal | undefined): Promise<Verdict> {
    if (kernel.agentId === null) return skipped(SkipCause.NO_AGENT, 'kernel has no agent')
    try {
      const client = await this.agentClientPool.acquire(kernel.agentId)
      const answer = await client.checkRunning(kernel.id, signal)
      if (answer.agentId !== kernel.agentId) {
        return skipped(SkipCause.AGENT_MISMATCH, `answer came from agent ${String(answer.agentId)}`)
      }
      if (answer.kernelId !== kernel.id) {
        return skipped(SkipCause.AGENT_ERROR, `answer names kernel ${String(answer.kernelId)}`)
      }
      if (answer.running === false) return DEAD
      if (answer.running === true) return ALIVE
      return skipped(SkipCause.AGENT_ERROR, `running is ${JSON.stringify(answer.running) ?? 'undefined'}, not a boolean`)
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason
      return skipped(causeOf(error), error instanceof Error ? error.message : String(error))
    }
  }
}
