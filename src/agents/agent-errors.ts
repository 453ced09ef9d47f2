/** The agent did not answer within the per-call timeout. */
export class AgentTimeoutError extends Error {
  override readonly name = 'AgentTimeoutError'
}

/**
 * Whoever answered is not the agent that hosts the kernel: a `404`, or a body naming another
 * agent id, as when a new agent took over a dead agent's address.
 */
export class AgentMismatchError extends Error {
  override readonly name = 'AgentMismatchError'
}
