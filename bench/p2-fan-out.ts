// P2 — stage-2 fan-out: 1,000 suspect kernels (no presence at all) on 100 agents that each answer
// after 20 ms, one in ten of them dead, swept by the long-lived service in a process of its own
// (dry runs, so that every run asks about the same kernels). Agents with the batch route are asked
// in one call each; v1 agents without it, one call per kernel (found out on the warm-up sweep and
// remembered for AGENT_BATCH_RETRY_SEC).
import { fmt, median, REDIS_URL, report, scratch, startService } from './support.js'
import { stageTwoWorld, type StageTwoWorld } from './stage-two-world.js'

const AGENTS = 100
const KERNELS = 1_000
const DELAY_MS = 20
const runs = Number(process.argv[2] ?? 5)

async function measure (world: StageTwoWorld): Promise<{ ms: number, calls: number, runs: number[] }> {
  await world.sweep({ dry_run: true }) // the warm-up: connections, the JIT, and which agents batch
  const times: number[] = []
  let calls = 0
  for (let run = 0; run < runs; run++) {
    const before = await world.fleet.stats()
    const { ms, sweep } = await world.sweep({ dry_run: true })
    calls = (await world.fleet.stats()).calls - before.calls
    if (sweep.counts.failures !== world.dead || sweep.counts.skipped !== 0 || sweep.counts.kernels !== KERNELS) {
      throw new Error(`wrong verdicts: ${JSON.stringify(sweep.counts)}`)
    }
    times.push(ms)
  }
  await world.fleet.stop()
  return { ms: median(times), calls, runs: times }
}

const s = await scratch()
const service = await startService({ DATABASE_URL: s.databaseUrl, VALKEY_URL: REDIS_URL })
try {
  const common = { serviceUrl: service.url, agents: AGENTS, kernels: KERNELS, deadEvery: 10, answerDelayMs: DELAY_MS }
  const batched = await measure(await stageTwoWorld({ ...common, scalingGroup: 'fan-out', agentPrefix: 'b', batch: true }))
  const perKernel = await measure(await stageTwoWorld({ ...common, scalingGroup: 'fan-out-v1', agentPrefix: 'v', batch: false }))
  report('P2 stage-2 fan-out', {
    suspects: KERNELS,
    agents: AGENTS,
    'agent delay': `${DELAY_MS} ms`,
    'sweep, batched (one call per agent)': fmt(batched.ms),
    'agent calls, batched': batched.calls,
    'sweep, v1 agents (one call per kernel)': fmt(perKernel.ms),
    'agent calls, v1 agents': perKernel.calls,
    runs: `${batched.runs.map(fmt).join(', ')} (v1: ${perKernel.runs.map(fmt).join(', ')})`,
  })
} finally {
  await service.stop()
  await s.drop()
}
