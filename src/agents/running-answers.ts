import type { AgentId, KernelId } from '../domain/kernel-info.js'
import { parseStrictJson, RepeatedKeyError, repeatedKeysIn } from '../json/strict-json.js'
import type { BatchRunningAnswer, RunningAnswer } from './agent-client-pool.js'
import { AgentMalformedResponseError, AgentMismatchError } from './agent-errors.js'

/** The body of an agent's 200 answer (contract §5), read strictly: an ambiguous answer never kills. */
function parseBody (text: string, agentId: AgentId): Record<string, unknown> {
  let body: unknown
  try {
    // `"running": true, "running": false` is ambiguous, and so is a kernel listed twice in a batch.
    body = parseStrictJson(text)
  } catch (error) {
    if (error instanceof RepeatedKeyError) throw ambiguous(text, agentId, error)
    throw new AgentMalformedResponseError(`agent ${agentId} answered something that is not JSON`)
  }
  const fields = isObject(body) ? body : {}
  const answeredAgent = fields['agent_id']
  if (typeof answeredAgent === 'string' && answeredAgent !== agentId) {
    throw new AgentMismatchError(`asked agent ${agentId}, answered by agent ${answeredAgent}`)
  }
  if (answeredAgent !== agentId) throw new AgentMalformedResponseError(`agent ${agentId} answered without its agent_id`)
  return fields
}

/** An answer with a repeated key: still from the agent asked (reached, rule 12) unless its own name is what repeats. */
function ambiguous (text: string, agentId: AgentId, first: RepeatedKeyError): AgentMalformedResponseError {
  const body: unknown = JSON.parse(text)
  const namesItself = isObject(body) && body['agent_id'] === agentId &&
    ![...repeatedKeysIn(text)].some((repeated) => repeated.pointer === '/' && repeated.key === 'agent_id')
  return new AgentMalformedResponseError(`agent ${agentId} answered ambiguously: ${first.message}`, { cause: first, fromAgent: namesItself })
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `{ agent_id, kernel_id, running }` about the kernel asked, from the agent asked. */
export function parseKernelAnswer (text: string, agentId: AgentId, kernelId: KernelId): RunningAnswer {
  const { kernel_id: answeredKernel, running } = parseBody(text, agentId)
  // It named itself: reached (rule 12), only not understood.
  if (typeof answeredKernel !== 'string' || typeof running !== 'boolean') {
    throw new AgentMalformedResponseError(`agent ${agentId} answered without kernel_id and a boolean running`, { fromAgent: true })
  }
  if (answeredKernel.toLowerCase() !== kernelId) {
    throw new AgentMalformedResponseError(`asked about kernel ${kernelId}, answered about ${answeredKernel}`, { fromAgent: true })
  }
  return { agentId, kernelId, running }
}

/**
 * `{ agent_id, running: { <kernel_id>: boolean } }` from the agent asked. Only the kernels asked
 * are kept, under the ids as asked; what the agent said of each is judged by the caller.
 */
export function parseBatchAnswer (text: string, agentId: AgentId, kernelIds: readonly KernelId[]): BatchRunningAnswer {
  const { running } = parseBody(text, agentId)
  if (!isObject(running)) {
    throw new AgentMalformedResponseError(`agent ${agentId} answered without a running object`, { fromAgent: true })
  }
  const answers = new Map<KernelId, unknown>()
  for (const kernelId of kernelIds) {
    if (Object.hasOwn(running, kernelId)) answers.set(kernelId, running[kernelId])
  }
  return { agentId, running: answers }
}
