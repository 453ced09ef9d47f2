// P6 — the presence-loss storm: 100,000 RUNNING kernels on 500 agents and no presence at all (what
// the first sweeps after a Valkey restart look like), agents answering after 20 ms. The service
// runs in a process of its own, long-lived: the kernels and agents are created through its API, a
// first sweep warms it, then each measured sweep asks every agent about all of its kernels.
import { fmt, median, REDIS_URL, report, scratch, startService } from './support.js'
import { stageTwoWorld } from './stage-two-world.js'

const KERNELS = Number(process.argv[2] ?? 100_000)
const AGENTS = Number(process.argv[3] ?? 500)
const runs = Number(process.argv[4] ?? 3)
const DELAY_MS = 20

const s = await scratch()
const service = await startService({ DATABASE_URL: s.databaseUrl, VALKEY_URL: REDIS_URL })
try {
  const world = await stageTwoWorld({
    serviceUrl: service.url, scalingGroup: 'storm', agentPrefix: 'storm-', agents: AGENTS, kernels: KERNELS, deadEvery: 0, answerDelayMs: DELAY_MS, batch: true,
  })
  await world.sweep({}) // the warm-up: connections to every agent, the query plan, the JIT
  const sweeps: number[] = []
  let callsPerSweep = 0
  for (let run = 0; run < runs; run++) {
    const before = await world.fleet.stats()
    const { ms, sweep } = await world.sweep({})
    const after = await world.fleet.stats()
    if (sweep.counts.successes !== KERNELS || sweep.counts.terminated !== 0 || sweep.counts.skipped !== 0) {
      throw new Error(`wrong sweep: ${JSON.stringify(sweep.counts)}`)
    }
    if (after.kernelsAsked - before.kernelsAsked !== KERNELS) throw new Error(`${after.kernelsAsked - before.kernelsAsked} kernels asked, not ${KERNELS}`)
    callsPerSweep = after.calls - before.calls
    sweeps.push(ms)
  }
  await world.fleet.stop()
  report('P6 presence-loss storm', {
    kernels: KERNELS,
    agents: AGENTS,
    'agent delay': `${DELAY_MS} ms`,
    'sweep (201, every kernel a suspect)': fmt(median(sweeps)),
    'agent calls per sweep': callsPerSweep,
    runs: sweeps.map(fmt).join(', '),
  })
} finally {
  await service.stop()
  await s.drop()
}
