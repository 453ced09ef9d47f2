import { setTimeout as sleep } from 'node:timers/promises'
import type { AgentClient, AgentClientPool, BatchRunningAnswer, RunningAnswer } from '../../src/agents/agent-client-pool.js'
import type { AgentId, HandlerKernel, KernelId } from '../../src/domain/kernel-info.js'
import type { KernelPages } from '../../src/domain/kernel-pages.js'
import type { LockID } from '../../src/domain/lock-id.js'
import type { HealthCheckStatus, KernelPresenceStatus } from '../../src/domain/presence.js'
import type { ScheduleType } from '../../src/domain/schedule-type.js'
import type { Database } from '../../src/persistence/database.js'
import { LockBusyError, LockExpiredError, type LockFactory, type LockHandle, type LockOptions } from '../../src/persistence/locks/lock-factory.js'
import type { CheckedKernel, PresenceChecker } from '../../src/presence/presence-store.js'
import type { AgentStatuses } from '../../src/terminator/session-terminator.js'
import type { StaleKernelCheck, StaleKernelChecker } from '../../src/terminator/stale-kernel-checker.js'
import type { AgentStatus } from '../../src/domain/agent.js'

/** Agent statuses as a sweep reads them: the given ones, every other agent unregistered (asked as usual). */
export function agentStatuses (statuses: Readonly<Record<AgentId, AgentStatus>> = {}): AgentStatuses {
  return { statusesOf: async (agentIds) => new Map(agentIds.flatMap((id) => statuses[id] === undefined ? [] : [[id, statuses[id]] as const])) }
}

/** A check that found `deadKernelIds` dead and left `skipped` alone, with no lost agent and no agent reached. */
export function staleCheck (deadKernelIds: readonly KernelId[], skipped: StaleKernelCheck['skipped'] = [], overrides: Partial<StaleKernelCheck> = {}): StaleKernelCheck {
  return { deadKernelIds, lostKernelIds: [], skipped, reachability: { reached: [], unreachable: [] }, ...overrides }
}

/** A terminator double: answers with a fixed check (or throws) and records every call. */
export class FakeTerminator implements StaleKernelChecker {
  readonly calls: Array<readonly HandlerKernel[]> = []

  constructor (private readonly answer: StaleKernelCheck | Error) {}

  async checkStaleKernels (kernels: KernelPages): Promise<StaleKernelCheck> {
    this.calls.push(await kernels.all())
    if (this.answer instanceof Error) throw this.answer
    return this.answer
  }
}

/**
 * A presence store double: fixed statuses by kernel id, as if each kernel's own agent had written
 * them; ids it does not know have no record.
 */
export class FakePresenceStore implements PresenceChecker {
  readonly calls: Array<{ kernelIds: readonly KernelId[], agentIds: readonly AgentId[] }> = []

  constructor (private readonly statuses: Readonly<Record<KernelId, HealthCheckStatus>>) {}

  async checkKernelPresenceStatusBatch (
    kernels: readonly CheckedKernel[],
    agentIds: readonly AgentId[]
  ): Promise<ReadonlyMap<KernelId, KernelPresenceStatus | null>> {
    const kernelIds = kernels.map((kernel) => kernel.id)
    this.calls.push({ kernelIds, agentIds })
    const now = Math.floor(Date.now() / 1000)
    return new Map(kernelIds.map((id) => {
      const presence = this.statuses[id]
      return [id, presence === undefined ? null : { presence, lastPresence: now }]
    }))
  }
}

/** What a fake agent does for one kernel: answer `running`, answer a whole body, or throw. */
export type AgentBehaviour =
  | { readonly running: unknown, readonly delayMs?: number }
  | { readonly answer: RunningAnswer }
  | { readonly error: Error }

/**
 * An agent client pool double. Behaviour is looked up by kernel id; it records acquisitions and
 * calls, and measures how many calls were in flight at once. It speaks the per-kernel route
 * unless made with `batches: true`; a batch call then fails with the first error among its
 * kernels' behaviours, or answers each kernel's `running` after the longest of their delays.
 */
export class FakeAgentClientPool implements AgentClientPool {
  readonly acquired: AgentId[] = []
  readonly forgotten: AgentId[] = []
  readonly checks: Array<{ agentId: AgentId, kernelId: KernelId }> = []
  readonly batchCalls: Array<{ agentId: AgentId, kernelIds: readonly KernelId[] }> = []
  inFlight = 0
  peakInFlight = 0

  constructor (private readonly behaviours: Readonly<Record<KernelId, AgentBehaviour>>, private readonly options: { batches?: boolean } = {}) {}

  async acquire (agentId: AgentId): Promise<AgentClient> {
    this.acquired.push(agentId)
    return {
      batches: this.options.batches === true,
      checkRunning: (kernelId) => this.inFlightWhile(() => this.checkRunning(agentId, kernelId)),
      checkRunningBatch: (kernelIds) => this.inFlightWhile(() => this.checkRunningBatch(agentId, kernelIds)),
    }
  }

  forget (agentId: AgentId): void {
    this.forgotten.push(agentId)
  }

  private async inFlightWhile<T> (call: () => Promise<T>): Promise<T> {
    this.inFlight++
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight)
    try {
      return await call()
    } finally {
      this.inFlight--
    }
  }

  private behaviourOf (agentId: AgentId, kernelId: KernelId): AgentBehaviour {
    const behaviour = this.behaviours[kernelId]
    if (behaviour === undefined) throw new Error(`fake agent ${agentId} has no behaviour for ${kernelId}`)
    return behaviour
  }

  private async checkRunning (agentId: AgentId, kernelId: KernelId): Promise<RunningAnswer> {
    this.checks.push({ agentId, kernelId })
    const behaviour = this.behaviourOf(agentId, kernelId)
    if ('error' in behaviour) throw behaviour.error
    if ('answer' in behaviour) return behaviour.answer
    await sleep(behaviour.delayMs ?? 0)
    return { agentId, kernelId, running: behaviour.running }
  }

  private async checkRunningBatch (agentId: AgentId, kernelIds: readonly KernelId[]): Promise<BatchRunningAnswer> {
    this.batchCalls.push({ agentId, kernelIds })
    const behaviours = kernelIds.map((kernelId) => this.behaviourOf(agentId, kernelId))
    for (const behaviour of behaviours) if ('error' in behaviour) throw behaviour.error
    await sleep(Math.max(0, ...behaviours.map((behaviour) => ('delayMs' in behaviour ? behaviour.delayMs ?? 0 : 0))))
    const running = new Map<KernelId, unknown>()
    behaviours.forEach((behaviour, index) => {
      running.set(kernelIds[index]!, 'answer' in behaviour ? behaviour.answer.running : 'running' in behaviour ? behaviour.running : undefined)
    })
    return { agentId, running }
  }
}

/**
 * A lock factory double: records acquisitions and releases; can be made busy or made to expire.
 * Fenced writes are transactions of `db`, refused as a real lock refuses them once invalid.
 */
export class FakeLockFactory implements LockFactory {
  readonly acquired: Array<{ lockId: LockID, scope: string, lifetimeMs: number }> = []
  released = 0
  busy = false
  valid = true

  constructor (private readonly db: Pick<Database, 'transaction'>) {}

  async acquire (lockId: LockID, scope: string, options: LockOptions): Promise<LockHandle> {
    if (this.busy) throw new LockBusyError(lockId, scope)
    this.acquired.push({ lockId, scope, lifetimeMs: options.lifetimeMs })
    let released = false
    return {
      stillValid: () => this.valid && !released,
      transaction: async (work) => {
        if (!this.valid || released) throw new LockExpiredError(`fake lock ${lockId} for ${scope} expired; nothing was written`)
        return this.db.transaction(work)
      },
      release: async () => {
        if (!released) this.released++
        released = true
      },
    }
  }

  async close (): Promise<void> {}
}

/** A schedule mark store double that can be made to fail. */
export class FakeScheduleStore {
  readonly marked: ScheduleType[] = []
  failing = false

  async markSchedulesNeeded (types: readonly ScheduleType[]): Promise<void> {
    if (this.failing) throw new Error('presence store unreachable')
    this.marked.push(...types)
  }
}
