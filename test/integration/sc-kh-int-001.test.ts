import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { startAgentProcess } from '../helpers/agent-process.js'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'

const REDIS_DB = 3

t.test('SC-KH-INT-001: full stale kernel sweep flow, end to end', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app, raw } = await testApp(t, REDIS_DB)
  await app.listen({ host: '127.0.0.1', port: 0 }) // the agents' heartbeats come over a real socket
  const service = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const [k1, k2, k3] = [randomUUID(), randomUUID(), randomUUID()]

  // Setup: 3 RUNNING kernels on two agent processes.
  const put = await app.inject({
    method: 'PUT',
    url: '/v1/kernels',
    payload: {
      kernels: [[k1, 'a1'], [k2, 'a1'], [k3, 'a2']].map(([id, agent]) => ({
        kernel_id: id, session_id: randomUUID(), scaling_group: 'default', agent_id: agent, status: 'RUNNING',
      })),
    },
  })
  t.same(put.json(), { upserted: 3 })
  const a1 = await startAgentProcess(t, { agentId: 'a1', service, scalingGroup: 'default', kernels: [k1!, k2!] })
  await startAgentProcess(t, { agentId: 'a2', service, scalingGroup: 'default', kernels: [k3!] })
  for (let i = 0; i < 50 && await raw.exists(`kernel:presence:${k3}`) === 0; i++) await sleep(50)

  // Valkey presence: k1 STALE, k2 ALIVE, k3 STALE. Agents: k1 dead, k3 actually running.
  const [now] = await raw.time()
  for (const id of [k1, k3]) await raw.hset(`kernel:presence:${id}`, 'last_presence', String(Number(now) - 600))
  t.equal((await app.inject({ method: 'GET', url: `/v1/kernels/${k1}/presence` })).json().presence, 'STALE')
  t.equal((await app.inject({ method: 'GET', url: `/v1/kernels/${k2}/presence` })).json().presence, 'ALIVE')
  t.equal((await a1.admin('POST', `/admin/kernels/${k1}/kill`)).status, 200)

  const response = await app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: {} })

  t.equal(response.statusCode, 201)
  const sweep = response.json()
  t.equal(response.headers.location, `/v1/sweeps/${sweep.sweep_id}`)
  t.equal(sweep.outcome, 'completed')
  const ordered = [k1, k2, k3].sort()
  t.same(sweep.result.successes.map((s: { kernel_id: string }) => s.kernel_id), ordered.filter((id) => id !== k1), 'successes: k2 and k3')
  t.same(sweep.result.failures, [{ kernel_id: k1, from_status: 'RUNNING', reason: 'STALE_KERNEL' }], 'failures: k1')
  t.same(sweep.terminated, [k1])
  t.same(sweep.skipped, [])

  // Only k1 marked TERMINATED; k2 and k3 remain RUNNING.
  const kernel = async (id: string) => (await app.inject({ method: 'GET', url: `/v1/kernels/${id}` })).json()
  t.match(await kernel(k1!), { status: 'TERMINATED', status_info: 'STALE_KERNEL' })
  t.equal((await kernel(k2!)).status, 'RUNNING')
  t.equal((await kernel(k3!)).status, 'RUNNING')
  const history = (await app.inject({ method: 'GET', url: `/v1/kernels/${k1}/history` })).json()
  t.match(history.items, [{ from_status: 'RUNNING', to_status: 'TERMINATED', reason: 'STALE_KERNEL', sweep_id: sweep.sweep_id }])
  t.same((await app.inject({ method: 'GET', url: `/v1/kernels/${k3}/history` })).json(), { items: [] })

  // DETECT_KERNEL_TERMINATION triggered.
  t.equal(await raw.get('schedule:detect_kernel_termination'), '1')
  // The sweep can be read back as it was answered.
  t.same((await app.inject({ method: 'GET', url: `/v1/sweeps/${sweep.sweep_id}` })).json(), sweep)
})
