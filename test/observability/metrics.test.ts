import { randomUUID } from 'node:crypto'
import t from 'tap'
import { KernelStatus } from '../../src/domain/kernel-status.js'
import type { SweepRecord } from '../../src/domain/sweep.js'
import { MAX_GROUP_LABELS, Metrics, OTHER_GROUPS } from '../../src/observability/metrics.js'
import { AgentRepository } from '../../src/persistence/agent-repository.js'
import { skipWithoutPostgres, testDatabase } from '../helpers/postgres.js'

/** The samples of one metric in a scrape, as `labels value` lines. */
async function samples (metrics: Metrics, name: string): Promise<string[]> {
  const text = await metrics.registry.metrics()
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `)).map((line) => line.slice(name.length)).sort()
}

t.test('kernel_sweeper_agents: agents by scaling group and status, counted from the database at every scrape', { skip: await skipWithoutPostgres() }, async (t) => {
  const db = (await testDatabase(t)).open()
  const agents = new AgentRepository(db, { lostAfterSec: 600 })
  const metrics = new Metrics()
  t.same(await samples(metrics, 'kernel_sweeper_agents'), [], 'no series until told how to count')

  metrics.countAgentsWith(() => agents.countByStatus())
  t.same(await samples(metrics, 'kernel_sweeper_agents'), [], 'no agents, no series')

  for (const id of ['a1', 'a2', 'a3', 'a4']) await agents.upsert({ id, address: 'http://127.0.0.1:9', scalingGroup: 'g1' })
  await agents.upsert({ id: 'b1', address: 'http://127.0.0.1:9', scalingGroup: 'g2' })
  await agents.recordReachability({ reached: ['a1'], unreachable: ['a2', 'a3'] })
  await db.query("UPDATE agents SET unreachable_since = now() - interval '601 seconds' WHERE id = 'a3'")
  await agents.markDecommissioned(['b1'])

  t.same(await samples(metrics, 'kernel_sweeper_agents'), [
    '{scaling_group="g1",status="ALIVE"} 2',
    '{scaling_group="g1",status="DECOMMISSIONED"} 0',
    '{scaling_group="g1",status="LOST"} 1',
    '{scaling_group="g1",status="UNREACHABLE"} 1',
    '{scaling_group="g2",status="ALIVE"} 0',
    '{scaling_group="g2",status="DECOMMISSIONED"} 1',
    '{scaling_group="g2",status="LOST"} 0',
    '{scaling_group="g2",status="UNREACHABLE"} 0',
  ].sort(), 'every status of every group that has agents, 0 included')

  await agents.upsert({ id: 'b1', address: 'http://127.0.0.1:9', scalingGroup: 'g1' })
  await agents.recordReachability({ reached: ['a2'], unreachable: [] })
  t.same((await samples(metrics, 'kernel_sweeper_agents')).filter((line) => !line.endsWith(' 0')), [
    '{scaling_group="g1",status="ALIVE"} 4',
    '{scaling_group="g1",status="LOST"} 1',
  ], 'the next scrape sees the changes; a group without agents is gone')
})

t.test('kernel_sweeper_agents: a count that fails or hangs leaves the gauge out of the scrape, which still answers', async (t) => {
  const metrics = new Metrics()
  // Read without scraping: a scrape would count once more.
  const failures = async () => (await metrics.agentCountFailures.get()).values[0]?.value
  metrics.countAgentsWith(async () => { throw new Error('database down') })
  t.same(await samples(metrics, 'kernel_sweeper_agents'), [])
  t.equal(await failures(), 1, 'counted as a failure')

  metrics.countAgentsWith(() => new Promise(() => {}))
  const started = Date.now()
  t.same(await samples(metrics, 'kernel_sweeper_agents'), [])
  t.ok(Date.now() - started < 5_000, `answered in ${Date.now() - started} ms`)
  t.equal(await failures(), 2)
})

t.test('kernel_sweeper_kernels_terminated_total: by reason, lost agents and decommissioning included', async (t) => {
  const metrics = new Metrics()
  const [stale, lost, decommissioned, held] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
  const record = (failures: Array<[string, string]>, terminated: string[]): SweepRecord => ({
    sweepId: randomUUID(),
    scalingGroup: 'g1',
    handler: 'sweep-stale-kernels',
    dryRun: false,
    forced: false,
    outcome: 'completed',
    startedAt: new Date(),
    finishedAt: new Date(),
    result: { successes: [], failures: failures.map(([kernelId, reason]) => ({ kernelId, fromStatus: KernelStatus.RUNNING, reason })), skipped: [] },
    terminated,
    error: null,
  })
  metrics.sweepFinished(record([[stale, 'STALE_KERNEL'], [lost, 'AGENT_LOST'], [held, 'AGENT_LOST']], [stale, lost]))
  metrics.sweepFinished(record([[decommissioned, 'AGENT_DECOMMISSIONED']], [decommissioned]))
  t.same(await samples(metrics, 'kernel_sweeper_kernels_terminated_total'), [
    '{reason="AGENT_DECOMMISSIONED"} 1',
    '{reason="AGENT_LOST"} 1',
    '{reason="STALE_KERNEL"} 1',
  ], 'only kernels whose status the sweep changed')
})

t.test('scaling_group labels are bounded: past MAX_GROUP_LABELS groups, the rest count together as _other', async (t) => {
  const metrics = new Metrics()
  const sweep = (scalingGroup: string, outcome: SweepRecord['outcome'] = 'completed'): SweepRecord => ({
    sweepId: randomUUID(),
    scalingGroup,
    handler: 'sweep-stale-kernels',
    dryRun: false,
    forced: false,
    outcome,
    startedAt: new Date(),
    finishedAt: new Date(),
    result: { successes: [], failures: [], skipped: [] },
    terminated: [],
    error: null,
  })
  for (let i = 0; i < MAX_GROUP_LABELS + 500; i++) metrics.sweepFinished(sweep(`made-up-${i}`))
  metrics.sweepFinished(sweep('made-up-0'))
  metrics.sweepFinished(sweep(`made-up-${MAX_GROUP_LABELS + 7}`, 'guard_tripped'))
  metrics.lockWasBusy('made-up-1')
  metrics.lockWasBusy('yet-another')
  const sweeps = await samples(metrics, 'kernel_sweeper_sweeps_total')
  t.equal(sweeps.length, MAX_GROUP_LABELS + 2, 'one series per named group, one _other for each outcome')
  t.ok(sweeps.includes('{scaling_group="made-up-0",outcome="completed"} 2'), 'a named group keeps its own series')
  t.ok(sweeps.includes(`{scaling_group="${OTHER_GROUPS}",outcome="completed"} 500`))
  t.ok(sweeps.includes(`{scaling_group="${OTHER_GROUPS}",outcome="guard_tripped"} 1`))
  t.same(await samples(metrics, 'kernel_sweeper_guard_trips_total'), [`{scaling_group="${OTHER_GROUPS}"} 1`])
  t.same(await samples(metrics, 'kernel_sweeper_lock_busy_total'), [`{scaling_group="${OTHER_GROUPS}"} 1`, '{scaling_group="made-up-1"} 1'])

  metrics.countAgentsWith(async () => [{ scalingGroup: 'made-up-2', status: 'ALIVE', count: 3 }, { scalingGroup: 'fresh', status: 'LOST', count: 1 }])
  const agents = await samples(metrics, 'kernel_sweeper_agents')
  t.ok(agents.includes('{scaling_group="made-up-2",status="ALIVE"} 3'))
  t.ok(agents.includes(`{scaling_group="${OTHER_GROUPS}",status="LOST"} 1`), 'the agents gauge shares the bound')
})
