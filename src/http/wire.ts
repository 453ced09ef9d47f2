import type { AgentRecord } from '../domain/agent.js'
import { kernelSpecFrom, type KernelSpec } from '../domain/kernel-info.js'
import type { KernelRecord, KernelStatusChange } from '../domain/kernel-record.js'
import type { KernelTransitionInfo } from '../domain/results.js'
import type { SweepRecord } from '../domain/sweep.js'
import type { PresenceReading } from '../presence/presence-store.js'
import type { AgentWire, KernelWire, SweepWire } from './schemas.js'

/** Domain records to the snake_case JSON of contract §3, and kernels back. */

/** A validated request's kernel, through the domain's own check (which also lower-cases ids). */
export function kernelFromWire (kernel: Pick<KernelWire, 'kernel_id' | 'session_id' | 'scaling_group' | 'agent_id' | 'status'>): KernelSpec {
  return kernelSpecFrom({
    id: kernel.kernel_id,
    sessionId: kernel.session_id,
    scalingGroup: kernel.scaling_group,
    agentId: kernel.agent_id,
    status: kernel.status,
  })
}

const transition = (info: KernelTransitionInfo): SweepWire['result']['successes'][number] =>
  ({ kernel_id: info.kernelId, from_status: info.fromStatus, reason: info.reason })

export function sweepToWire (sweep: SweepRecord): SweepWire {
  return {
    sweep_id: sweep.sweepId,
    scaling_group: sweep.scalingGroup,
    handler: sweep.handler,
    dry_run: sweep.dryRun,
    forced: sweep.forced,
    outcome: sweep.outcome,
    started_at: sweep.startedAt.toISOString(),
    finished_at: sweep.finishedAt.toISOString(),
    result: { successes: Array.from(sweep.result.successes, transition), failures: sweep.result.failures.map(transition) },
    terminated: [...sweep.terminated],
    skipped: sweep.result.skipped.map((skipped) => skipped.confirmations === undefined
      ? { kernel_id: skipped.kernelId, cause: skipped.cause }
      : { kernel_id: skipped.kernelId, cause: skipped.cause, confirmations: skipped.confirmations }),
    counts: {
      kernels: sweep.result.successes.length + sweep.result.failures.length,
      successes: sweep.result.successes.length,
      failures: sweep.result.failures.length,
      terminated: sweep.terminated.length,
      skipped: sweep.result.skipped.length,
    },
    error: sweep.error,
  }
}

export function kernelToWire (kernel: KernelRecord): KernelWire {
  return {
    kernel_id: kernel.id,
    session_id: kernel.sessionId,
    scaling_group: kernel.scalingGroup,
    agent_id: kernel.agentId,
    status: kernel.status,
    status_info: kernel.statusInfo,
    status_changed_at: kernel.statusChangedAt.toISOString(),
    terminated_at: kernel.terminatedAt?.toISOString() ?? null,
    created_at: kernel.createdAt.toISOString(),
    version: kernel.version,
  }
}

export function historyToWire (change: KernelStatusChange) {
  return {
    from_status: change.fromStatus,
    to_status: change.toStatus,
    reason: change.reason,
    sweep_id: change.sweepId,
    changed_at: change.changedAt.toISOString(),
  }
}

export function agentToWire (agent: AgentRecord): AgentWire {
  return {
    agent_id: agent.id,
    address: agent.address,
    scaling_group: agent.scalingGroup,
    status: agent.status,
    registered_at: agent.registeredAt.toISOString(),
    last_reached_at: agent.lastReachedAt?.toISOString() ?? null,
    unreachable_since: agent.unreachableSince?.toISOString() ?? null,
  }
}

export function presenceToWire (kernelId: string, reading: PresenceReading) {
  return { kernel_id: kernelId, presence: reading.presence, last_presence: reading.lastPresence }
}
