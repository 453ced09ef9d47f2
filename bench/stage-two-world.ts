import { randomUUID } from 'node:crypto'
import type { SweepWire } from '../src/http/schemas.js'
import { startFleet, type AgentFleet } from './agent-fleet.js'
import { timed } from './support.js'

export interface StageTwoWorldOptions {
  /** The running service, e.g. from `startService`. */
  readonly serviceUrl: string
  readonly scalingGroup: string
  /** Agent ids are this prefix and a number. */
  readonly agentPrefix: string
  readonly agents: number
  readonly kernels: number
  /** Every n-th kernel has died (its agent says so); 0: none. */
  readonly deadEvery: number
  readonly answerDelayMs: number
  readonly batch: boolean
}

export interface StageTwoWorld {
  readonly fleet: AgentFleet
  readonly dead: number
  /** One sweep of the group over HTTP: its wall time and answer. */
  sweep (body: { dry_run?: boolean, force?: boolean }): Promise<{ ms: number, sweep: SweepWire }>
}

const BULK = 10_000

async function call (url: string, method: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`)
  return response.json()
}

/**
 * A scaling group whose kernels have no presence at all, as after Valkey lost its data: every
 * kernel is a suspect, and each sweep asks every agent about all of its kernels. The agents run in
 * a child process (`startFleet`), registered and their kernels created through the service's API.
 */
export async function stageTwoWorld (options: StageTwoWorldOptions): Promise<StageTwoWorld> {
  const { serviceUrl, scalingGroup, agents } = options
  const kernels = Array.from({ length: options.kernels }, (_, i) => ({
    id: randomUUID(), agentId: `${options.agentPrefix}${i % agents}`, dead: options.deadEvery > 0 && i % options.deadEvery === 0,
  }))
  // Kernel i is on agent i % agents.
  const fleetAgents = Array.from({ length: agents }, (_, a) => ({ agentId: `${options.agentPrefix}${a}`, running: [] as string[], dead: [] as string[] }))
  kernels.forEach((kernel, i) => { fleetAgents[i % agents]![kernel.dead ? 'dead' : 'running'].push(kernel.id) })
  const fleet = await startFleet({
    answerDelayMs: options.answerDelayMs,
    batch: options.batch,
    agents: fleetAgents,
  })
  for (const [agentId, address] of Object.entries(fleet.urls)) {
    await call(`${serviceUrl}/v1/agents/${agentId}`, 'PUT', { address, scaling_group: scalingGroup })
  }
  for (let start = 0; start < kernels.length; start += BULK) {
    await call(`${serviceUrl}/v1/kernels`, 'PUT', {
      kernels: kernels.slice(start, start + BULK).map((kernel) => ({
        kernel_id: kernel.id, session_id: randomUUID(), scaling_group: scalingGroup, agent_id: kernel.agentId, status: 'RUNNING',
      })),
    })
  }
  return {
    fleet,
    dead: kernels.filter((kernel) => kernel.dead).length,
    sweep: async (body) => {
      const { ms, result } = await timed(() => fetch(`${serviceUrl}/v1/scaling-groups/${scalingGroup}/sweeps`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      }).then(async (response) => ({ status: response.status, text: await response.text() })))
      if (result.status !== 201) throw new Error(`sweep answered ${result.status}: ${result.text.slice(0, 300)}`)
      return { ms, sweep: JSON.parse(result.text) as SweepWire }
    },
  }
}
