import type { AgentClientPool } from '../agents/agent-client-pool.js'
import { AgentStatus, type AgentReachabilityReport } from '../domain/agent.js'
import type { AgentId, HandlerKernel, KernelId } from '../domain/kernel-info.js'
import type { KernelPages } from '../domain/kernel-pages.js'
import { isSuspectPresence } from '../domain/presence.js'
import { SkipCause, type SkippedKernel } from '../domain/results.js'
import type { Logger } from '../logger.js'
import type { PresenceChecker } from '../presence/presence-store.js'
import { AgentInquiry, skipped, type AgentCall, type SkippedVerdict, type Verdict } from './agent-inquiry.js'
import type { StaleKernelCheck, StaleKernelChecker } from './stale-kernel-checker.js'

/** The agents' status as a sweep starts (contract §1): the agents repository fits. */
export interface AgentStatuses {
  statusesOf (agentIds: readonly AgentId[]): Promise<ReadonlyMap<AgentId, AgentStatus>>
}

export interface SessionTerminatorDeps {
  readonly presenceStore: PresenceChecker
  readonly agentClientPool: AgentClientPool
  readonly agentStatuses: AgentStatuses
  /** Most agent calls in flight at once within one check, a batch counting one (`AGENT_RPC_CONCURRENCY`). */
  readonly agentRpcConcurrency: number
  /** Most kernels asked about in one batched call (`AGENT_RPC_BATCH_SIZE`). */
  readonly agentRpcBatchSize: number
  readonly logger: Logger
}

/** Rule 12 per agent: reached by any call, or unreachable on every call, or neither. */
function reachabilityOf (calls: readonly AgentCall[]): AgentReachabilityReport {
  const byAgent = new Map<AgentId, { reached: boolean, unreachable: boolean }>()
  for (const { agentId, contact } of calls) {
    const seen = byAgent.get(agentId) ?? { reached: false, unreachable: true }
    byAgent.set(agentId, { reached: seen.reached || contact === 'reached', unreachable: seen.unreachable && contact === 'unreachable' })
  }
  const reached: AgentId[] = []
  const unreachable: AgentId[] = []
  for (const [agentId, seen] of byAgent) {
    if (seen.reached) reached.push(agentId)
    else if (seen.unreachable) unreachable.push(agentId)
  }
  return { reached, unreachable }
}

function positiveInteger (name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return value
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
  private readonly agentRpcBatchSize: number
  private readonly logger: Logger

  constructor (deps: SessionTerminatorDeps) {
    this.presenceStore = deps.presenceStore
    this.agentClientPool = deps.agentClientPool
    this.agentStatuses = deps.agentStatuses
    this.agentRpcConcurrency = positiveInteger('agentRpcConcurrency', deps.agentRpcConcurrency)
    this.agentRpcBatchSize = positiveInteger('agentRpcBatchSize', deps.agentRpcBatchSize)
    this.logger = deps.logger
  }

  async checkStaleKernels (kernels: KernelPages, signal?: AbortSignal): Promise<StaleKernelCheck> {
    signal?.throwIfAborted()
    const suspects = await this.findSuspects(kernels)
    if (suspects.length === 0) return { deadKernelIds: [], lostKernelIds: [], skipped: [], reachability: { reached: [], unreachable: [] } }
    const statuses = await this.agentStatuses.statusesOf([...new Set(suspects.flatMap((kernel) => kernel.agentId ?? []))])

    // Kernels with no agent to ask, or one never to be asked again, are settled before stage 2.
    const unasked = new Map<KernelId, Verdict>()
    const kernelsByAgent = new Map<AgentId, KernelId[]>()
    for (const kernel of suspects) {
      const agentId = kernel.agentId
      if (agentId === null) {
        unasked.set(kernel.id, this.leftAlone(kernel, skipped(SkipCause.NO_AGENT, 'kernel has no agent', 'none')))
        continue
      }
      if (statuses.get(agentId) === AgentStatus.DECOMMISSIONED) {
        unasked.set(kernel.id, this.leftAlone(kernel, skipped(SkipCause.AGENT_DECOMMISSIONED, `agent ${agentId} is decommissioned`, 'none')))
        continue
      }
      const ofAgent = kernelsByAgent.get(agentId)
      if (ofAgent === undefined) kernelsByAgent.set(agentId, [kernel.id])
      else ofAgent.push(kernel.id)
    }
    const inquiry = new AgentInquiry({
      agentClientPool: this.agentClientPool, concurrency: this.agentRpcConcurrency, batchSize: this.agentRpcBatchSize, logger: this.logger,
    }, signal)
    const { verdicts, calls } = await inquiry.ask(kernelsByAgent)
    const reachability = reachabilityOf(calls)
    const reached = new Set(reachability.reached)

    const deadKernelIds: KernelId[] = []
    const lostKernelIds: KernelId[] = []
    const skippedKernels: SkippedKernel[] = []
    for (const kernel of suspects) {
      const verdict = unasked.get(kernel.id) ?? verdicts.get(kernel.id)!
      if (verdict.kind === 'dead') deadKernelIds.push(kernel.id)
      if (verdict.kind !== 'skipped') continue
      // Rule 13: the agent was LOST before this sweep, and this sweep did not reach it (so it is
      // still unreachable since then once rule 12 is recorded); its own call was unreachable too.
      const agentId = kernel.agentId
      if (verdict.contact === 'unreachable' && agentId !== null && statuses.get(agentId) === AgentStatus.LOST && !reached.has(agentId)) {
        lostKernelIds.push(kernel.id)
      } else {
        skippedKernels.push({ kernelId: kernel.id, cause: verdict.cause })
      }
    }
    if (lostKernelIds.length > 0) this.logger.warn({ kernel_ids: lostKernelIds }, '%d kernel(s) of lost agents found dead', lostKernelIds.length)
    return { deadKernelIds, lostKernelIds, skipped: skippedKernels, reachability }
  }

  /**
   * Stage 1: kernels whose presence is STALE or missing, in input order. Each page is checked as
   * soon as it is read, so the store works on it while the next page is read. Store and read
   * errors propagate, once every check sent has settled: no verdict without them.
   */
  private async findSuspects (pages: KernelPages): Promise<readonly HandlerKernel[]> {
    const checks: Array<Promise<readonly HandlerKernel[]>> = []
    let failed = false
    try {
      for await (const page of pages) {
        const check = this.suspectsOf(page)
        // Seen now, answered below: a failed check stops the reading, its error is the check's.
        check.catch(() => { failed = true })
        checks.push(check)
        if (failed) break
      }
    } finally {
      // A read that failed half-way leaves checks in flight: none may outlive the sweep unheard.
      await Promise.allSettled(checks)
    }
    return (await Promise.all(checks)).flat()
  }

  private async suspectsOf (kernels: readonly HandlerKernel[]): Promise<readonly HandlerKernel[]> {
    const agentIds = new Set<AgentId>()
    for (const kernel of kernels) if (kernel.agentId !== null) agentIds.add(kernel.agentId)
    // Each kernel goes with its agent: only that agent's heartbeat vouches for it.
    const statuses = await this.presenceStore.checkKernelPresenceStatusBatch(kernels, [...agentIds])
    return kernels.filter((kernel) => isSuspectPresence(statuses.get(kernel.id)))
  }

  /** A suspect no agent is asked about (rule 3): it has none, or its agent is decommissioned (rule 14). */
  private leftAlone (kernel: HandlerKernel, verdict: SkippedVerdict): Verdict {
    this.logger.warn({ kernel_id: kernel.id, agent_id: kernel.agentId, cause: verdict.cause, err: verdict.error },
      'stale kernel %s left alone: %s', kernel.id, verdict.cause)
    return verdict
  }
}
