import type { AgentId } from './kernel-info.js'

export interface AgentRegistration {
  readonly id: AgentId
  /** Base URL of the agent's RPC server, `http(s)://host:port`. */
  readonly address: string
  readonly scalingGroup: string
}

/**
 * Contract §1, derived when read (never stored): `DECOMMISSIONED` until registered again; else
 * `ALIVE` while reachable; else `LOST` once unreachable for more than `AGENT_LOST_AFTER_SEC` (when
 * that is > 0); else `UNREACHABLE`. The rule is written once, in the agents repository's SQL.
 */
export const AgentStatus = {
  ALIVE: 'ALIVE',
  UNREACHABLE: 'UNREACHABLE',
  LOST: 'LOST',
  DECOMMISSIONED: 'DECOMMISSIONED',
} as const

export type AgentStatus = typeof AgentStatus[keyof typeof AgentStatus]

export const AGENT_STATUSES: readonly AgentStatus[] = Object.freeze(Object.values(AgentStatus))

/** What the sweeps learned of an agent (rule 12) and whether it was decommissioned (rule 14). */
export interface AgentReachability {
  readonly lastReachedAt: Date | null
  readonly unreachableSince: Date | null
  readonly decommissionedAt: Date | null
}

export interface AgentRecord extends AgentRegistration, AgentReachability {
  readonly registeredAt: Date
  readonly status: AgentStatus
}

/** What one sweep learned of the agents it asked (rule 12): recorded by real sweeps only. */
export interface AgentReachabilityReport {
  /** At least one call got an answer from the right agent. */
  readonly reached: readonly AgentId[]
  /** Every call was refused, reset, timed out, or answered 404 or for another agent. */
  readonly unreachable: readonly AgentId[]
}
