import type { AgentId } from './kernel-info.js'

/** Heartbeat presence of a kernel as read from the presence store (contract §1, §4). */
export const HealthCheckStatus = {
  ALIVE: 'ALIVE',
  UNHEALTHY: 'UNHEALTHY',
  STALE: 'STALE',
} as const

export type HealthCheckStatus = typeof HealthCheckStatus[keyof typeof HealthCheckStatus]

export interface KernelPresenceStatus {
  readonly presence: HealthCheckStatus
  /** Seconds since the epoch, on the presence store's clock, of the last heartbeat. */
  readonly lastPresence: number
}

/**
 * A kernel whose presence cannot vouch for it. "No record" (`null`) is suspect too: a kernel the
 * agent never reported, or whose key expired, must be confirmed by its agent rather than trusted.
 */
export function isSuspectPresence (status: KernelPresenceStatus | null | undefined): boolean {
  return status == null || status.presence === HealthCheckStatus.STALE
}

/** The fields of a presence record as stored, before any interpretation. */
export interface RawPresence {
  readonly presence: string | null
  readonly lastPresence: string | null
  /** The agent whose heartbeat wrote the record (v2); null in records Backend.AI agents write, which lack it. */
  readonly agentId: string | null
}

const INTEGER = /^-?\d+$/

/**
 * Reads a presence record at `now` (seconds, the store's clock) for a kernel of agent
 * `kernelAgentId`. No `presence` field or a `last_presence` that is not an integer is "no record"
 * (`null`): a bad record is never a reason to terminate, only to ask the agent. So is a record
 * another agent wrote: a heartbeat vouches only for the agent's own kernels, and the kernel's own
 * agent is asked instead. A record without `agent_id` (Backend.AI's), or a kernel with no agent
 * (`null`: nothing to compare with), reads as before. Older than `stalenessSec` (strictly) is
 * STALE; otherwise the agent's own flag decides between ALIVE and UNHEALTHY.
 */
export function classifyPresence (
  raw: RawPresence,
  kernelAgentId: AgentId | null,
  now: number,
  stalenessSec: number
): KernelPresenceStatus | null {
  if (raw.presence === null || raw.lastPresence === null || !INTEGER.test(raw.lastPresence)) return null
  if (raw.agentId !== null && kernelAgentId !== null && raw.agentId !== kernelAgentId) return null
  const lastPresence = Number(raw.lastPresence)
  if (!Number.isSafeInteger(lastPresence)) return null
  if (now - lastPresence > stalenessSec) return { presence: HealthCheckStatus.STALE, lastPresence }
  return { presence: raw.presence === '1' ? HealthCheckStatus.ALIVE : HealthCheckStatus.UNHEALTHY, lastPresence }
}
