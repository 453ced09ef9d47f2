import type { AgentId } from './kernel-info.js'

export interface AgentRegistration {
  readonly id: AgentId
  /** Base URL of the agent's RPC server, `http(s)://host:port`. */
  readonly address: string
  readonly scalingGroup: string
}

export interface AgentRecord extends AgentRegistration {
  readonly registeredAt: Date
}
