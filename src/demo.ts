// `npm run demo`: the whole service in one process — embedded database, in-process presence, two
// simulated agents — sweeping a scaling group where a few kernels have died.
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { AgentSimulator, type KernelBehaviour } from './agents/simulator/agent-simulator.js'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'
import type { SweepWire } from './http/schemas.js'

const app = await buildApp(loadConfig({ DATA_DIR: 'memory://', SWEEP_INTERVAL_SEC: '0', AGENT_RPC_TIMEOUT_MS: '1000', LOG_LEVEL: 'error' }))
await app.listen({ host: '127.0.0.1', port: 0 })
const service = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

async function call<T> (method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${service}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  })
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  return (response.status === 204 ? undefined : await response.json()) as T
}

// Twelve kernels on three agents. Three died (their agents say so), one agent hangs, one kernel is
// unhealthy but present; the rest run. a1 and a3 are asked in batches; a2 is an older agent without
// the batch route, asked one kernel at a time.
const plan: Array<[agent: string, behaviour: KernelBehaviour]> = [
  ['a1', 'running'], ['a1', 'running'], ['a1', 'dead'], ['a1', 'running'], ['a1', 'running'], ['a1', 'dead'],
  ['a2', 'running'], ['a2', 'unhealthy'], ['a2', 'running'], ['a2', 'dead'], ['a3', 'hang'], ['a2', 'running'],
]
const kernels = plan.map(([agent, behaviour]) => ({ id: randomUUID(), agent, behaviour }))
const agents = new Map<string, AgentSimulator>()
for (const agentId of ['a1', 'a2', 'a3']) {
  const simulator = await AgentSimulator.start({
    agentId,
    batch: agentId !== 'a2',
    reportPresence: (id, presence) => call('POST', `/v1/agents/${id}/presence`, { kernels: Object.fromEntries(presence) }),
  })
  agents.set(agentId, simulator)
  await call('PUT', `/v1/agents/${agentId}`, { address: simulator.url, scaling_group: 'demo' })
}
await call('PUT', '/v1/kernels', {
  kernels: kernels.map((k) => ({ kernel_id: k.id, session_id: randomUUID(), scaling_group: 'demo', agent_id: k.agent, status: 'RUNNING' })),
})
for (const k of kernels) agents.get(k.agent)!.setKernel(k.id, k.behaviour)
for (const simulator of agents.values()) await simulator.sendPresence()

function show (title: string, sweep: SweepWire): void {
  const failed = new Set(sweep.result.failures.map((f) => f.kernel_id))
  const skipped = new Map(sweep.skipped.map((s) => [s.kernel_id, s.cause]))
  const terminated = new Set(sweep.terminated)
  console.log(`\n${title}: sweep ${sweep.sweep_id}, outcome ${sweep.outcome}`)
  console.table(kernels.map((k) => ({
    kernel: `${k.id.slice(0, 8)}…`,
    agent: k.agent,
    'agent says': k.behaviour,
    verdict: failed.has(k.id) ? 'dead' : skipped.has(k.id) ? `skipped (${skipped.get(k.id)})` : 'alive',
    terminated: terminated.has(k.id) ? 'yes' : '',
  })))
}

show('Dry run (nothing changes)', await call<SweepWire>('POST', '/v1/scaling-groups/demo/sweeps', { dry_run: true }))
const sweep = await call<SweepWire>('POST', '/v1/scaling-groups/demo/sweeps', {})
show('Sweep', sweep)

const example = sweep.terminated[0]
if (example !== undefined) {
  const { items } = await call<{ items: unknown[] }>('GET', `/v1/kernels/${example}/history`)
  console.log(`\nHistory of terminated kernel ${example}:`)
  console.table(items)
}

for (const simulator of agents.values()) await simulator.close()
await app.close()
