import type { AgentId, HandlerKernel, KernelId } from '../domain/kernel-info.js'
import type { HealthCheckStatus, KernelPresenceStatus } from '../domain/presence.js'
import type { ScheduleType } from '../domain/schedule-type.js'

/** What `GET /v1/kernels/{id}/presence` shows: the status now, and the raw heartbeat time. */
export interface PresenceReading {
  readonly presence: HealthCheckStatus | null
  readonly lastPresence: number | null
}

/** A kernel as stage 1 checks it: its presence counts only when written by its own agent's heartbeats. */
export type CheckedKernel = Pick<HandlerKernel, 'id' | 'agentId'>

/** Port to the heartbeat presence store (Valkey, or process memory in embedded mode). */
export interface PresenceStore {
  /**
   * Stage 1 of the stale check: the presence of every kernel in one round trip, recording the
   * check itself on the kernels and their agents (contract §4). Kernels with no record, or with a
   * record another agent than theirs wrote, map to `null` (`classifyPresence`). Throws
   * `PresenceUnavailableError` when the store cannot answer, so a sweep never mistakes an outage
   * for death.
   */
  checkKernelPresenceStatusBatch (
    kernels: readonly CheckedKernel[],
    agentIds: readonly AgentId[],
  ): Promise<ReadonlyMap<KernelId, KernelPresenceStatus | null>>

  /**
   * Agent `agentId`'s heartbeats: `true` the kernel runs, `false` it is present but unhealthy. Each
   * record names the agent, since it vouches only for that agent's kernels.
   */
  updateKernelPresenceBatch (agentId: AgentId, presence: ReadonlyMap<KernelId, boolean>): Promise<void>

  /**
   * One kernel's presence, read without side effects. The kernel's agent is not known here, so a
   * record is read whichever agent wrote it.
   */
  getKernelPresence (kernelId: KernelId): Promise<PresenceReading>

  /** Tells the session-level scheduler there is work for it. */
  markSchedulesNeeded (types: readonly ScheduleType[]): Promise<void>

  /** Answers when the store does (readiness); throws `PresenceUnavailableError` otherwise. */
  ping (): Promise<void>

  close (): Promise<void>
}

/** The store did not answer (down, unreachable, too slow): no verdict can be drawn from it. */
export class PresenceUnavailableError extends Error {
  override readonly name = 'PresenceUnavailableError'
}

/** Key names and lifetimes shared with Backend.AI's manager and agents (contract §4). */
export const PresenceKeys = {
  kernel: (kernelId: KernelId): string => `kernel:presence:${kernelId}`,
  agentLastCheck: (agentId: AgentId): string => `agent:last_check:${agentId}`,
  schedule: (type: ScheduleType): string => `schedule:${type}`,
  AGENT_LAST_CHECK_TTL_SEC: 1200,
} as const

export interface PresenceRules {
  /** A heartbeat older than this (strictly) is STALE (`PRESENCE_STALENESS_SEC`). */
  readonly stalenessSec: number
  /** Every write renews a kernel record's expiry to this (`PRESENCE_TTL_SEC`). */
  readonly ttlSec: number
}

/** The slice of the store the terminator needs. */
export type PresenceChecker = Pick<PresenceStore, 'checkKernelPresenceStatusBatch'>
