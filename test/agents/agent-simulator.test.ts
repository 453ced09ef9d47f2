import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { AgentSimulator } from '../../src/agents/simulator/agent-simulator.js'
import { freePort } from '../helpers/redis.js'

t.test('the simulator answers checks for its own agent id only', async (t) => {
  const agent = await AgentSimulator.start({ agentId: 'a1' })
  t.teardown(() => agent.close())
  const k1 = randomUUID()
  agent.setKernel(k1, 'running')
  const ask = (kernelId: string, agentId: string) => fetch(`${agent.url}/v1/kernels/${kernelId}/running?agent_id=${agentId}`)

  const ok = await ask(k1, 'a1')
  t.equal(ok.status, 200)
  t.same(await ok.json(), { agent_id: 'a1', kernel_id: k1, running: true })
  t.equal((await ask(k1, 'a2')).status, 404, 'not this agent')
  t.equal(agent.checksServed, 1, 'a 404 is not a served check')
})

t.test('heartbeats report running and unhealthy kernels, on a timer', async (t) => {
  const reports: Array<Map<string, boolean>> = []
  const agent = await AgentSimulator.start({
    agentId: 'a1',
    presenceIntervalMs: 20,
    reportPresence: async (agentId, kernels) => { t.equal(agentId, 'a1'); reports.push(new Map(kernels)) },
  })
  t.teardown(() => agent.close())
  const [running, unhealthy, dead, hung] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
  agent.setKernel(running, 'running')
  agent.setKernel(unhealthy, 'unhealthy')
  agent.setKernel(dead, 'running')
  agent.kill(dead)
  agent.setKernel(hung, 'running')
  agent.hang(hung)
  await new Promise((resolve) => setTimeout(resolve, 70))
  t.ok(reports.length >= 2, `sent ${reports.length} heartbeats`)
  t.same([...reports.at(-1)!].sort(), [[running, true], [unhealthy, false]].sort(), 'killed and hung kernels are not reported')
})

t.test('admin routes change kernels from outside', async (t) => {
  const agent = await AgentSimulator.start({ agentId: 'a1' })
  t.teardown(() => agent.close())
  const k1 = randomUUID()
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${agent.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })

  t.equal((await call('PUT', `/admin/kernels/${k1}`, {})).status, 200)
  t.equal(agent.behaviourOf(k1), 'running', 'added, running by default')
  t.equal((await call('POST', `/admin/kernels/${k1}/kill`)).status, 200)
  t.equal(agent.behaviourOf(k1), 'dead')
  t.equal((await call('POST', `/admin/kernels/${k1}/hang`)).status, 200)
  t.equal(agent.behaviourOf(k1), 'hang')
  t.equal((await call('PUT', `/admin/kernels/${k1}`, { behaviour: 'impostor' })).status, 200)
  t.same(await (await call('GET', '/admin/kernels')).json(), { agent_id: 'a1', kernels: { [k1]: 'impostor' } })
  t.equal((await call('PUT', `/admin/kernels/${k1}`, { behaviour: 'zombie' })).status, 400)
  t.equal((await call('PUT', `/admin/kernels/${k1}`)).status, 200)
  t.equal((await call('DELETE', `/admin/kernels/${k1}`)).status, 200)
  t.equal(agent.behaviourOf(k1), undefined)
  t.equal((await call('PATCH', `/admin/kernels/${k1}`)).status, 405)
  t.equal((await call('POST', '/admin/kernels')).status, 405)
  t.equal((await call('GET', '/elsewhere')).status, 404)
})

t.test('the agent-sim program (built by npm test): registers, sends heartbeats to the service, serves checks', async (t) => {
  const received: Array<{ method: string | undefined, url: string | undefined, body: unknown, auth: string | undefined }> = []
  const service = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({ method: request.method, url: request.url, body: JSON.parse(Buffer.concat(chunks).toString()), auth: request.headers.authorization })
      response.writeHead(request.method === 'POST' ? 204 : 200)
      response.end()
    })
  })
  service.listen(0, '127.0.0.1')
  await once(service, 'listening')
  t.teardown(() => { service.closeAllConnections(); service.close() })
  const servicePort = (service.address() as AddressInfo).port
  const port = await freePort()
  const kernelId = randomUUID()

  const child = spawn(process.execPath, [
    'dist/src/agents/simulator/cli.js', '--port', String(port), '--agent-id', 'a7',
    '--service', `http://127.0.0.1:${servicePort}`, '--scaling-group', 'default', '--kernels', kernelId, '--interval-sec', '1',
  ], { env: { ...process.env, AGENT_TOKEN: 'agent-secret' }, stdio: ['ignore', 'ignore', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })

  for (let i = 0; i < 100 && !received.some((r) => r.method === 'POST'); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(received.find((r) => r.method === 'PUT'), {
    method: 'PUT', url: '/v1/agents/a7', body: { address: `http://127.0.0.1:${port}`, scaling_group: 'default' }, auth: 'Bearer agent-secret',
  })
  t.same(received.find((r) => r.method === 'POST'), {
    method: 'POST', url: '/v1/agents/a7/presence', body: { kernels: { [kernelId]: true } }, auth: 'Bearer agent-secret',
  })
  const answer = await fetch(`http://127.0.0.1:${port}/v1/kernels/${kernelId}/running?agent_id=a7`)
  t.same(await answer.json(), { agent_id: 'a7', kernel_id: kernelId, running: true })

  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.equal(code, 0, 'stops cleanly')
})
