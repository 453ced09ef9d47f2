import { randomUUID } from 'node:crypto'
import t from 'tap'
import { AgentSimulator } from '../../src/agents/simulator/agent-simulator.js'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'

const REDIS_DB = 4

t.test('SC-KH-INT-002: a second sweep of a group while one runs gets 409; other groups sweep in parallel', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  // The agent hangs, so the first sweep holds the lock (233, default) for the RPC timeout.
  const { app } = await testApp(t, REDIS_DB, { AGENT_RPC_TIMEOUT_MS: '1500', SWEEP_LOCK_LIFETIME_SEC: '30' })
  const agent = await AgentSimulator.start({ agentId: 'a1' })
  t.teardown(() => agent.close())
  const [slow, other] = [randomUUID(), randomUUID()]
  agent.hang(slow)
  await app.inject({ method: 'PUT', url: '/v1/agents/a1', payload: { address: agent.url, scaling_group: 'default' } })
  await app.inject({
    method: 'PUT',
    url: '/v1/kernels',
    payload: {
      kernels: [[slow, 'default'], [other, 'gpu']].map(([id, group]) => ({
        kernel_id: id, session_id: randomUUID(), scaling_group: group, agent_id: 'a1', status: 'RUNNING',
      })),
    },
  })

  const first = app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: {} })
  while (agent.checksServed === 0) await new Promise((resolve) => setTimeout(resolve, 10))

  const second = await app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: {} })
  t.equal(second.statusCode, 409)
  t.match(second.headers['content-type'], /^application\/problem\+json/)
  t.match(second.json(), { type: 'lock-busy', status: 409 })
  t.ok(Number(second.headers['retry-after']) >= 1, `Retry-After: ${second.headers['retry-after']}`)

  const parallel = await app.inject({ method: 'POST', url: '/v1/scaling-groups/gpu/sweeps', payload: { dry_run: true } })
  t.equal(parallel.statusCode, 201, 'another group is not blocked')

  const done = await first
  t.equal(done.statusCode, 201)
  t.same(done.json().skipped, [{ kernel_id: slow, cause: 'agent_timeout' }], 'the hung agent was skipped, not trusted')
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /kernel_sweeper_lock_busy_total\{scaling_group="default"\} 1/)

  const third = await app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: { dry_run: true } })
  t.equal(third.statusCode, 201, 'the lock was released')
})
