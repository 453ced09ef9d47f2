import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { secondInstance, testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'

const REDIS_DB = 8

t.test('background sweeps: two instances on one database sweep each group once per tick between them', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const env = { SWEEP_INTERVAL_SEC: '1', SWEEP_INITIAL_DELAY_SEC: '0' }
  const first = await testApp(t, REDIS_DB, env)
  const second = await secondInstance(t, first, env)
  const kernels = ['g1', 'g2', 'g2'].map((group) => ({
    kernel_id: randomUUID(), session_id: randomUUID(), scaling_group: group, agent_id: null, status: 'RUNNING',
  }))
  await first.app.inject({ method: 'PUT', url: '/v1/kernels', payload: { kernels } })
  await first.app.inject({
    method: 'PUT',
    url: '/v1/kernels',
    payload: { kernels: [{ kernel_id: randomUUID(), session_id: randomUUID(), scaling_group: 'idle', agent_id: null, status: 'TERMINATED' }] },
  })

  // Read by a third instance (no background sweeps) once both have stopped: a sweep finishing
  // between the read and the close would be logged but not read.
  const reader = await secondInstance(t, first)
  await sleep(3_600)
  await first.app.close()
  await second.app.close()
  const records = (await reader.app.inject({ method: 'GET', url: '/v1/sweeps?limit=500' })).json().items as Array<{ scaling_group: string, started_at: string, finished_at: string }>
  const byGroup = (group: string) => records.filter((sweep) => sweep.scaling_group === group).reverse()

  for (const group of ['g1', 'g2']) {
    const sweeps = byGroup(group)
    // One instance alone ticks about 4 times in 3.6 s; two uncoordinated instances would make about 8.
    t.ok(sweeps.length >= 2 && sweeps.length <= 5, `${group} swept ${sweeps.length} times`)
    t.ok(sweeps.every((sweep, i) => i === 0 || Date.parse(sweep.started_at) >= Date.parse(sweeps[i - 1]!.finished_at)), `${group}: never two at once`)
  }
  t.same(byGroup('idle'), [], 'a group with no RUNNING kernels is not swept')
  const finishedBy = (logs: Array<Record<string, unknown>>) => logs.filter((entry) => entry['msg'] === 'sweep finished').length
  t.equal(finishedBy(first.logs) + finishedBy(second.logs), byGroup('g1').length + byGroup('g2').length, 'every sweep was run by one of the two')
})
