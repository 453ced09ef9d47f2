import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { AgentId, KernelId } from '../src/domain/kernel-info.js'

/** What the fleet runs: agents, the kernels each runs or has lost, and how they answer. */
export interface FleetSpec {
  readonly agents: ReadonlyArray<{ readonly agentId: AgentId, readonly running: readonly KernelId[], readonly dead: readonly KernelId[] }>
  /** Every call is answered this much later: a busy agent on a real network. */
  readonly answerDelayMs: number
  /** False: v1 agents without the batch route, asked one kernel at a time. */
  readonly batch: boolean
}

export type FleetMessage = { readonly kind: 'start', readonly spec: FleetSpec } | { readonly kind: 'stats' }

export type FleetReply =
  | { readonly kind: 'started', readonly urls: Readonly<Record<AgentId, string>> }
  | { readonly kind: 'stats', readonly calls: number, readonly batchCalls: number, readonly kernelsAsked: number }

export interface FleetStats {
  /** Calls served, on either route. */
  readonly calls: number
  readonly batchCalls: number
  readonly kernelsAsked: number
}

export interface AgentFleet {
  /** Each agent's address, to register with the service. */
  readonly urls: Readonly<Record<AgentId, string>>
  /** Counts since the fleet started. */
  stats (): Promise<FleetStats>
  stop (): Promise<void>
}

async function ask (child: ChildProcess, message: FleetMessage): Promise<FleetReply> {
  const reply = once(child, 'message') as Promise<[FleetReply]>
  child.send(message)
  return (await reply)[0]
}

/** Simulated agents (`AgentSimulator`) in a child process of their own. */
export async function startFleet (spec: FleetSpec): Promise<AgentFleet> {
  const child = fork(new URL('agent-fleet-process.js', import.meta.url).pathname, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const started = await ask(child, { kind: 'start', spec })
  if (started.kind !== 'started') throw new Error('the agent fleet did not start')
  return {
    urls: started.urls,
    stats: async () => {
      const reply = await ask(child, { kind: 'stats' })
      if (reply.kind !== 'stats') throw new Error('the agent fleet answered something else')
      return { calls: reply.calls, batchCalls: reply.batchCalls, kernelsAsked: reply.kernelsAsked }
    },
    stop: async () => {
      const exited = once(child, 'exit')
      child.disconnect()
      await exited
    },
  }
}
