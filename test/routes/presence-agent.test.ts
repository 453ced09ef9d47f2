import { randomUUID } from 'node:crypto'
import t from 'tap'
import { AgentSimulator } from '../../src/agents/simulator/agent-simulator.js'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'

t.test('the presence route names its agent: a heartbeat vouches only for that agent\'s kernels', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app, raw } = await testApp(t, 'own')
  const call = async (method: string, url: string, payload?: object) =>
    app.inject({ method: method as 'GET', url, ...(payload === undefined ? {} : { payload }) })

  // Agent A runs none of its kernels any more: whichever kernel it is asked about, it says dead.
  const agentA = await AgentSimulator.start({ agentId: 'agent-a' })
  t.teardown(() => agentA.close())
  await call('PUT', '/v1/agents/agent-a', { address: agentA.url, scaling_group: 'default' })
  await call('PUT', '/v1/agents/agent-b', { address: 'http://127.0.0.1:9', scaling_group: 'default' })
  const [byOtherAgent, byOwnAgent, byBackendAi] = [randomUUID(), randomUUID(), randomUUID()]
  for (const kernelId of [byOtherAgent, byOwnAgent, byBackendAi]) {
    const put = await call('PUT', `/v1/kernels/${kernelId}`, { session_id: randomUUID(), scaling_group: 'default', agent_id: 'agent-a', status: 'RUNNING' })
    t.equal(put.statusCode, 200)
    agentA.setKernel(kernelId, 'dead')
  }

  t.equal((await call('POST', '/v1/agents/agent-b/presence', { kernels: { [byOtherAgent]: true } })).statusCode, 204)
  t.equal((await call('POST', '/v1/agents/agent-a/presence', { kernels: { [byOwnAgent]: true } })).statusCode, 204)
  // A Backend.AI agent writes Valkey itself, without agent_id.
  const now = Number((await raw.time())[0])
  await raw.hset(`kernel:presence:${byBackendAi}`, 'presence', '1', 'last_presence', String(now))
  t.equal(await raw.hget(`kernel:presence:${byOtherAgent}`, 'agent_id'), 'agent-b', 'the record names the route\'s agent')
  t.equal(await raw.hget(`kernel:presence:${byOwnAgent}`, 'agent_id'), 'agent-a')

  const sweep = await call('POST', '/v1/scaling-groups/default/sweeps')
  t.equal(sweep.statusCode, 201)
  t.match(sweep.json(), { outcome: 'completed', terminated: [byOtherAgent], skipped: [] },
    'B\'s word left A\'s kernel a suspect, and A said it is dead')
  t.equal(agentA.kernelsAsked, 1, 'A was asked about that kernel only: its own heartbeat and Backend.AI\'s record vouch as before')

  const reading = await call('GET', `/v1/kernels/${byOtherAgent}/presence`)
  t.match(reading.json(), { presence: 'ALIVE' }, 'the read-only presence route does not compare agents')
})
