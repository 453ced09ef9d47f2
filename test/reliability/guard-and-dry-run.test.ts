import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { AgentSimulator } from '../../src/agents/simulator/agent-simulator.js'
import { testApp } from '../helpers/app.js'
import { assertNoFalseTermination } from '../helpers/invariants.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'

const REDIS_DB = 10

/** A group of `total` kernels of which `dead` have died (silent, and their agent says so). */
async function group (t: Test, total: number, dead: number) {
  const test = await testApp(t, REDIS_DB, { GUARD_MIN_KERNELS: '4', GUARD_MAX_RATIO: '0.5' })
  const agent = await AgentSimulator.start({ agentId: 'a1' })
  t.teardown(() => agent.close())
  await test.app.inject({ method: 'PUT', url: '/v1/agents/a1', payload: { address: agent.url, scaling_group: 'default' } })
  const ids = Array.from({ length: total }, () => randomUUID())
  await test.app.inject({
    method: 'PUT',
    url: '/v1/kernels',
    payload: { kernels: ids.map((id) => ({ kernel_id: id, session_id: randomUUID(), scaling_group: 'default', agent_id: 'a1', status: 'RUNNING' })) },
  })
  ids.forEach((id, i) => { agent.setKernel(id, i < dead ? 'dead' : 'running') })
  await test.app.sweeper.presence.updateKernelPresenceBatch('a1', new Map(ids.slice(dead).map((id) => [id, true])))
  const sweep = async (body: Record<string, boolean> = {}) =>
    (await test.app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: body })).json()
  return { ...test, ids, deadIds: ids.slice(0, dead), aliveIds: ids.slice(dead), sweep }
}

t.test('guard and dry run at their boundaries (GUARD_MIN_KERNELS=4, GUARD_MAX_RATIO=0.5)', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  await t.test('exactly at the ratio (4 of 8) is allowed', async (t) => {
    const g = await group(t, 8, 4)
    const sweep = await g.sweep()
    t.equal(sweep.outcome, 'completed')
    t.same([...sweep.terminated].sort(), [...g.deadIds].sort())
    await assertNoFalseTermination(t, g.app, g.aliveIds)
  })

  await t.test('one below the minimum count (3 of 3 dead) is allowed', async (t) => {
    const g = await group(t, 3, 3)
    const sweep = await g.sweep()
    t.equal(sweep.outcome, 'completed')
    t.equal(sweep.terminated.length, 3)
  })

  await t.test('over the ratio at the minimum count (5 of 8) trips; force bypasses', async (t) => {
    const g = await group(t, 8, 5)
    const tripped = await g.sweep()
    t.equal(tripped.outcome, 'guard_tripped')
    t.same(tripped.terminated, [])
    t.equal(tripped.result.failures.length, 5, 'the confirmed dead are reported')
    t.equal(await g.raw.get('schedule:detect_kernel_termination'), null, 'no mark')
    await assertNoFalseTermination(t, g.app, g.ids)
    const metrics = (await g.app.inject({ method: 'GET', url: '/metrics' })).body
    t.match(metrics, /kernel_sweeper_guard_trips_total\{scaling_group="default"\} 1/)

    const forced = await g.sweep({ force: true })
    t.match(forced, { outcome: 'completed', forced: true })
    t.equal(forced.terminated.length, 5)
    await assertNoFalseTermination(t, g.app, g.aliveIds)
  })

  await t.test('dry run: stages 1 and 2 run and report; nothing changes, nothing is marked', async (t) => {
    const g = await group(t, 8, 3)
    const dry = await g.sweep({ dry_run: true })
    t.equal(dry.outcome, 'dry_run')
    t.same(dry.result.failures.map((f: { kernel_id: string }) => f.kernel_id).sort(), [...g.deadIds].sort())
    t.same(dry.terminated, [])
    t.equal(await g.raw.get('schedule:detect_kernel_termination'), null)
    await assertNoFalseTermination(t, g.app, g.ids)
    const read = (await g.app.inject({ method: 'GET', url: `/v1/sweeps/${dry.sweep_id}` })).json()
    t.same(read, dry, 'recorded like any sweep')
  })
})
