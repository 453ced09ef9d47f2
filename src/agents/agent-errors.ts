/** Stage 2 could not get a trustworthy answer from an agent. Never a verdict: the kernel is skipped. */
export class AgentRpcError extends Error {
  override readonly name: string = 'AgentRpcError'
}

/** The agent did not answer within the per-call timeout. */
export class AgentTimeoutError extends AgentRpcError {
  override readonly name = 'AgentTimeoutError'
}

/**
 * Whoever answered is not the agent that hosts the kernel: a `404`, or a body naming another
 * agent id, as when a new agent took over a dead agent's address.
 */
export class AgentMismatchError extends AgentRpcError {
  override readonly name = 'AgentMismatchError'
}

/** Nothing accepted the connection, or it broke before a whole answer came. */
export class AgentUnreachableError extends AgentRpcError {
  override readonly name = 'AgentUnreachableError'
}

/** The agent answered with a status other than 200 (and 404). */
export class AgentHttpStatusError extends AgentRpcError {
  override readonly name = 'AgentHttpStatusError'

  constructor (readonly statusCode: number) {
    super(`agent answered HTTP ${statusCode}`)
  }
}

/**
 * The agent's 200 answer is not the `{ agent_id, kernel_id, running }` of contract §5. When it
 * still names the agent asked (`fromAgent`), the agent was reached (rule 12), only not understood.
 */
export class AgentMalformedResponseError extends AgentRpcError {
  override readonly name = 'AgentMalformedResponseError'
  readonly fromAgent: boolean

  constructor (message: string, options: ErrorOptions & { fromAgent?: boolean } = {}) {
    super(message, options)
    this.fromAgent = options.fromAgent ?? false
  }
}

/** The agent is not registered, so there is no address to ask. */
export class AgentUnknownError extends AgentRpcError {
  override readonly name = 'AgentUnknownError'
}
