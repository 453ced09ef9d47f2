import pLimit from 'p-limit'
import {
  AgentMalformedResponseError, AgentMismatchError, AgentTimeoutError, AgentUnreachableError,
} from '../agents/agent-errors.js'
import type { AgentClientPool } from '../agents/agent-client-pool.js'
import { AgentStatus, type AgentReachabilityReport } from '../domain/agent.js'
import type { AgentId, KernelId, KernelInfo } from '../domain/kernel-info.js'
import { isSuspectPresence } from '../domain/presence.js'
import { SkipCause, type SkippedKernel } from '../domain/results.js'
import type { Logger } from '../logger.js'
import type { PresenceChecker } from '../presence/presence-store.js'
import type { StaleKernelCheck, StaleKernelChecker } from './stale-kernel-checker.js'

/** The agents' status as a sweep starts (contract §1): the agents repository fits. */
export interface AgentStatuses {
  statusesOf (agentIds: readonly AgentId[]): Promise<ReadonlyMap<AgentId, AgentStatus>>
}

export interface SessionTerminatorDeps {
  readonly presenceStore: PresenceChecker
  readonly agentClientPool: AgentClientPool
  readonly agentStatuses: AgentStatuses
  /** Most agent calls in flight at once within one check (`AGENT_RPC_CONCURRENCY`). */
  readonly agentRpcConcurrency: number
  readonly logger: Logger
}

/**
 * What one call says of its agent (rule 12): answered as itself, or unreachable (refused, reset,
 * timed out, a 404 or an answer naming another agent), or nothing either way (5xx, malformed).
 */
type Contact = 'reached' | 'unreachable' | 'none'

type Verdict =
  | { readonly kind: 'dead', readonly contact: Contact }
  | { readonly kind: 'alive', readonly contact: Contact }
  | { readonly kind: 'skipped', readonly cause: SkipCause, readonly error: string, readonly contact: Contact }

function skipped (cause: SkipCause, error: string, contact: Contact): Verdict {
  return { kind: 'skipped', cause, error, contact }
}

function causeOf (error: unknown): SkipCause {
  if (error instanceof AgentTimeoutError) return SkipCause.AGENT_TIMEOUT
  if (error instanceof AgentMismatchError) return SkipCause.AGENT_MISMATCH
  return SkipCause.AGENT_ERROR
}

function contactOf (error: unknown): Contact {
  if (error instanceof AgentTimeoutError || error instanceof AgentMismatchError || error instanceof AgentUnreachableError) return 'unreachable'
  if (error instanceof AgentMalformedResponseError && error.fromAgent) return 'reached'
  return 'none'
}

/** Rule 12 per agent: reached by any call, or unreachable on every call, or neither. */
function reachabilityOf (calls: ReadonlyArray<{ agentId: AgentId, contact: Contact }>): AgentReachabilityReport {
  const byAgent = new Map<AgentId, Contact[]>()
  for (const { agentId, contact } of calls) byAgent.set(agentId, [...(byAgent.get(agentId) ?? []), contact])
  const reached: AgentId[] = []
  const unreachable: AgentId[] = []
  for (const [agentId, contacts] of byAgent) {
    if (contacts.includes('reached')) reached.push(agentId)
    else if (contacts.every((contact) => contact === 'unreachable')) unreachable.push(agentId)
  }
  return { reached, unreachable }
}

/**
 * The two-stage stale check. A kernel is dead only when its presence cannot vouch for it (stage 1)
 * and its own agent then says, explicitly, that it does not run (stage 2) — or, when the whole node
 * is gone, its agent has been unreachable for longer than `AGENT_LOST_AFTER_SEC` and is so again
 * (rule 13). Anything less certain leaves the kernel alone: a false termination destroys running
 * work, a missed one is retried by the next sweep.
 */
export class SessionTerminator implements StaleKernelChecker {
  private readonly presenceStore: PresenceChecker
  private readonly agentClientPool: AgentClientPool
  private readonly agentStatuses: AgentStatuses
  private readonly agentRpcConcurrency: number
  private readonly logger: Logger

  constructor (deps: SessionTerminatorDeps) {
    if (!Number.isInteger(deps.agentRpcConcurrency) || deps.agentRpcConcurrency < 1) {
      throw new RangeError(`agentRpcConcurrency must be a positive integer, got ${deps.agentRpcConcurrency}`)
    }
    this.presenceStore = deps.presenceStore
    this.agentClientPool = deps.agentClientPool
    this.agentStatuses = deps.agentStatuses
    this.agentRpcConcurrency = deps.agentRpcConcurrency
    this.logger = deps.logger
  }

  async checkStaleKernels (kernels: readonly KernelInfo[], signal?: AbortSignal): Promise<StaleKernelCheck> {
    signal?.throwIfAborted()
    const suspects = await this.findSuspects(kernels)
    if (suspects.length === 0) return { deadKernelIds: [], lostKernelIds: [], skipped: [], reachability: { reached: [], unreachable: [] } }
    const statuses = await this.agentStatuses.statusesOf([...new Set(suspects.flatMap((kernel) => kernel.agentId ?? []))])

    // A fresh limiter per check: the bound is per sweep, and sweeps of other groups do not queue
    // behind this one. Once the signal aborts, the calls still queued reject before asking anyone,
    // and the first rejection rejects the whole check.
    const limit = pLimit(this.agentRpcConcurrency)
    const verdicts = await limit.map(suspects, (kernel) => {
      signal?.throwIfAborted()
      return this.verifyWithAgent(kernel, statuses.get(kernel.agentId ?? ''), signal)
    })

    // The agents asked: decommissioned ones never are.
    const calls = suspects.flatMap((kernel, index) =>
      kernel.agentId === null || statuses.get(kernel.agentId) === AgentStatus.DECOMMISSIONED
        ? []
        : [{ agentId: kernel.agentId, contact: verdicts[index]!.contact }])
    const reachability = reachabilityOf(calls)
    const reached = new Set(reachability.reached)

    const deadKernelIds: KernelId[] = []
    const lostKernelIds: KernelId[] = []
    const skippedKernels: SkippedKernel[] = []
    suspects.forEach((kernel, index) => {
      const verdict = verdicts[index]!
      if (verdict.kind === 'dead') deadKernelIds.push(kernel.id)
      if (verdict.kind !== 'skipped') return
      // Rule 13: the agent was LOST before this sweep, and this sweep did not reach it (so it is
      // still unreachable since then once rule 12 is recorded); its own call was unreachable too.
      const agentId = kernel.agentId
      if (verdict.contact === 'unreachable' && agentId !== null && statuses.get(agentId) === AgentStatus.LOST && !reached.has(agentId)) {
        lostKernelIds.push(kernel.id)
      } else {
        skippedKernels.push({ kernelId: kernel.id, cause: verdict.cause })
      }
    })
    if (lostKernelIds.length > 0) this.logger.warn({ kernel_ids: lostKernelIds }, '%d kernel(s) of lost agents found dead', lostKernelIds.length)
    return { deadKernelIds, lostKernelIds, skipped: skippedKernels, reachability }
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
  private async verifyWithAgent (kernel: KernelInfo, agentStatus: AgentStatus | undefined, signal: AbortSignal | undefined): Promise<Verdict> {
    const verdict = await this.askAgent(kernel, agentStatus, signal)
    if (verdict.kind === 'skipped') {
      this.logger.warn(
        { kernel_id: kernel.id, agent_id: kernel.agentId, cause: verdict.cause, err: verdict.error },
        'stale kernel %s left alone: %s', kernel.id, verdict.cause
      )
    }
    return verdict
  }

  private async askAgent (kernel: KernelInfo, agentStatus: AgentStatus | undefined, signal: AbortSignal | undefined): Promise<Verdict> {
    if (kernel.agentId === null) return skipped(SkipCause.NO_AGENT, 'kernel has no agent', 'none')
    if (agentStatus === AgentStatus.DECOMMISSIONED) {
      return skipped(SkipCause.AGENT_DECOMMISSIONED, `agent ${kernel.agentId} is decommissioned`, 'none')
    }
    try {
      const client = await this.agentClientPool.acquire(kernel.agentId)
      const answer = await client.checkRunning(kernel.id, signal)
      if (answer.agentId !== kernel.agentId) {
        return skipped(SkipCause.AGENT_MISMATCH, `answer came from agent ${String(answer.agentId)}`, 'unreachable')
      }
      if (answer.kernelId !== kernel.id) {
        return skipped(SkipCause.AGENT_ERROR, `answer names kernel ${String(answer.kernelId)}`, 'reached')
      }
      if (answer.running === false) return { kind: 'dead', contact: 'reached' }
      if (answer.running === true) return { kind: 'alive', contact: 'reached' }
      return skipped(SkipCause.AGENT_ERROR, `running is ${JSON.stringify(answer.running) ?? 'undefined'}, not a boolean`, 'reached')
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason
      return skipped(causeOf(error), error instanceof Error ? error.message : String(error), contactOf(error))
    }
  }
}
