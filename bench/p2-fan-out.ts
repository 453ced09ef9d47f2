// P2 — stage 2 fan-out: 1,000 suspect kernels across 100 simulated agents that each answer after
// 20 ms, checked by the terminator over real HTTP; beside it, the one-by-one check of the original
// design, measured the same way (the same terminator with a concurrency of 1).
import { randomUUID } from 'node:crypto'
import { HttpAgentClientPool } from '../src/agents/http-agent-client-pool.js'
import { AgentSimulator } from '../src/agents/simulator/agent-simulator.js'
import { KernelStatus } from '../src/domain/kernel-status.js'
import type { KernelInfo } from '../src/domain/kernel-info.js'
import { InProcessPresenceStore } from '../src/presence/in-process-presence-store.js'
import { SessionTerminator } from '../src/terminator/session-terminator.js'
import { fmt, median, report, timed } from './support.js'

const AGENTS = 100
const KERNELS = 1_000
const DELAY_MS = 20
const runs = Number(process.argv[2] ?? 3)

const simulators = await Promise.all(Array.from({ length: AGENTS }, (_, i) => AgentSimulator.start({ agentId: `a${i}`, answerDelayMs: DELAY_MS })))
const addresses = new Map(simulators.map((simulator) => [simulator.agentId, simulator.url]))
const kernels: KernelInfo[] = Array.from({ length: KERNELS }, (_, i) => {
  const kernel = { id: randomUUID(), sessionId: randomUUID(), agentId: `a${i % AGENTS}`, scalingGroup: 'bench', status: KernelStatus.RUNNING, version: 1 }
  simulators[i % AGENTS]!.setKernel(kernel.id, i % 10 === 0 ? 'dead' : 'running')
  return kernel
})
const silent = { debug () {}, info () {}, warn () {}, error () {} }

async function check (agentRpcConcurrency: number): Promise<number> {
  // No presence at all: every kernel is a suspect, so every one is asked.
  const presenceStore = new InProcessPresenceStore({ stalenessSec: 120, ttlSec: 300 })
  const agentClientPool = new HttpAgentClientPool({ directory: { get: async (id) => ({ address: addresses.get(id)! }) }, timeoutMs: 5_000 })
  const terminator = new SessionTerminator({ presenceStore, agentClientPool, agentStatuses: { statusesOf: async () => new Map() }, agentRpcConcurrency, logger: silent })
  const { ms, result } = await timed(() => terminator.checkStaleKernels(kernels))
  await agentClientPool.close()
  if (result.deadKernelIds.length !== KERNELS / 10 || result.skipped.length !== 0) throw new Error('wrong verdicts')
  return ms
}

const concurrent: number[] = []
for (let run = 0; run < runs; run++) concurrent.push(await check(32))
const sequential = await check(1)
for (const simulator of simulators) await simulator.close()

report('P2 stage-2 fan-out', {
  suspects: KERNELS,
  agents: AGENTS,
  'agent delay': `${DELAY_MS} ms`,
  'concurrent (32 in flight)': fmt(median(concurrent)),
  'one by one (the original)': fmt(sequential),
  speedup: `${(sequential / median(concurrent)).toFixed(1)}×`,
  runs: concurrent.map(fmt).join(', '),
})
