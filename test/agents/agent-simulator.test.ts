import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { createInterface } from 'node:readline'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { AgentSimulator, type Reconciliation } from '../../src/agents/simulator/agent-simulator.js'
import { serviceClient } from '../../src/agents/simulator/service-client.js'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { freePort, skipWithoutRedis } from '../helpers/redis.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until (condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(20)) if (condition()) return true
  return condition()
}

interface Received { method: string | undefined, url: string | undefined, body: unknown, auth: string | undefined }

/** A stand-in for the service: records every request and answers with `answer`'s status and body. */
async function fakeService (t: import('tap').Test, answer: (request: Received, index: number) => [number, unknown?]) {
  const received: Received[] = []
  const service = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString()
      const entry = { method: request.method, url: request.url, body: text === '' ? undefined : JSON.parse(text), auth: request.headers.authorization }
      received.push(entry)
      const [status, body] = answer(entry, received.length - 1)
      if (body === undefined) {
        response.writeHead(status)
        response.end()
      } else {
        response.writeHead(status, { 'content-type': 'application/json' })
        response.end(JSON.stringify(body))
      }
    })
  })
  service.listen(0, '127.0.0.1')
  await once(service, 'listening')
  t.teardown(() => { service.closeAllConnections(); service.close() })
  return { received, url: `http://127.0.0.1:${(service.address() as AddressInfo).port}` }
}

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

/** `POST /v1/kernels/running` (contract §5) with `body` as it is when a string, as JSON otherwise. */
function askBatch (url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}/v1/kernels/running`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), ...init,
  })
}

const counters = (agent: AgentSimulator) => ({ calls: agent.checksServed, batches: agent.batchCallsServed, kernels: agent.kernelsAsked })

t.test('a batched check answers every kernel by its behaviour, under the id as asked', async (t) => {
  const agent = await AgentSimulator.start({ agentId: 'a1' })
  t.teardown(() => agent.close())
  const [running, unhealthy, dead, error, garbage, unknown] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()]
  agent.setKernel(running, 'running')
  agent.setKernel(unhealthy, 'unhealthy')
  agent.setKernel(dead, 'dead')
  agent.setKernel(error, 'error')
  agent.setKernel(garbage, 'garbage')
  const shouted = running.toUpperCase()

  const answer = await askBatch(agent.url, { agent_id: 'a1', kernel_ids: [running, unhealthy, dead, error, garbage, unknown, shouted] })
  t.equal(answer.status, 200)
  t.same(await answer.json(), {
    agent_id: 'a1',
    running: { [running]: true, [unhealthy]: true, [dead]: false, [garbage]: '<html>not json</html>', [unknown]: false, [shouted]: true },
  }, 'error is left out, garbage is not a boolean, ids compared lower-cased')
  t.same(counters(agent), { calls: 1, batches: 1, kernels: 7 })

  t.same(await (await askBatch(agent.url, { agent_id: 'a1', kernel_ids: [] })).json(), { agent_id: 'a1', running: {} }, 'an empty batch')
  t.same(counters(agent), { calls: 2, batches: 2, kernels: 7 })
})

t.test('hang, half-close and impostor spoil the whole batched call, in that order', async (t) => {
  const agent = await AgentSimulator.start({ agentId: 'a1' })
  t.teardown(() => agent.close())
  const [running, hung, halfClosed, impostor] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
  agent.setKernel(running, 'running')
  agent.setKernel(hung, 'hang')
  agent.setKernel(halfClosed, 'half-close')
  agent.setKernel(impostor, 'impostor')
  const ask = (kernelIds: string[]) => askBatch(agent.url, { agent_id: 'a1', kernel_ids: kernelIds }, { signal: AbortSignal.timeout(300) })

  t.same(await (await ask([running, impostor])).json(), { agent_id: 'a1-impostor', running: { [running]: true, [impostor]: false } }, 'the impostor names another agent')
  await t.rejects(ask([running, halfClosed, impostor]), { cause: { code: 'UND_ERR_SOCKET' } }, 'half-close drops the connection, before impostor')
  await t.rejects(ask([running, impostor, halfClosed, hung]), { name: 'TimeoutError' }, 'hang holds the call, before the others')
  t.same(counters(agent), { calls: 3, batches: 3, kernels: 9 }, 'held and dropped calls were served')
})

t.test('a batched check for another agent is 404, a malformed one 400', async (t) => {
  const agent = await AgentSimulator.start({ agentId: 'a1' })
  t.teardown(() => agent.close())
  const kernelId = randomUUID()
  agent.setKernel(kernelId, 'running')

  t.equal((await askBatch(agent.url, { agent_id: 'a2', kernel_ids: [kernelId] })).status, 404, 'another agent')
  t.equal((await askBatch(agent.url, { kernel_ids: [kernelId] })).status, 404, 'no agent id')
  const malformed: unknown[] = ['{"agent_id":"a1",', '', 'null', [kernelId], { agent_id: 'a1' }, { agent_id: 'a1', kernel_ids: kernelId }, { agent_id: 'a1', kernel_ids: [kernelId, 7] }]
  for (const body of malformed) t.equal((await askBatch(agent.url, body)).status, 400, `400 for ${JSON.stringify(body)}`)
  t.equal((await fetch(`${agent.url}/v1/kernels/running`)).status, 404, 'only POST')
  t.same(counters(agent), { calls: 0, batches: 0, kernels: 0 }, 'none of them was served')
})

t.test('with batch: false the agent is a v1 agent: the batched route answers the configured status', async (t) => {
  const kernelId = randomUUID()
  for (const status of [undefined, 404, 405, 501] as const) {
    const agent = await AgentSimulator.start({ agentId: 'a1', batch: false, ...(status === undefined ? {} : { batchUnsupportedStatus: status }) })
    t.teardown(() => agent.close())
    agent.setKernel(kernelId, 'running')
    t.equal((await askBatch(agent.url, { agent_id: 'a1', kernel_ids: [kernelId] })).status, status ?? 404, `${status ?? 'default: 404'}`)
    const check = await fetch(`${agent.url}/v1/kernels/${kernelId}/running?agent_id=a1`)
    t.same(await check.json(), { agent_id: 'a1', kernel_id: kernelId, running: true }, 'per-kernel checks are answered')
    t.same(counters(agent), { calls: 1, batches: 0, kernels: 1 }, 'the refused batch was not served')
  }
})

t.test('per-kernel checks count as calls of one kernel, with their behaviours as before', async (t) => {
  const agent = await AgentSimulator.start({ agentId: 'a1' })
  t.teardown(() => agent.close())
  const [dead, error, garbage, impostor] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
  agent.setKernel(dead, 'dead')
  agent.setKernel(error, 'error')
  agent.setKernel(garbage, 'garbage')
  agent.setKernel(impostor, 'impostor')
  const ask = (kernelId: string) => fetch(`${agent.url}/v1/kernels/${kernelId}/running?agent_id=a1`)

  t.same(await (await ask(dead)).json(), { agent_id: 'a1', kernel_id: dead, running: false })
  t.equal((await ask(error)).status, 500)
  t.equal(await (await ask(garbage)).text(), '<html>not json</html>')
  t.same(await (await ask(impostor)).json(), { agent_id: 'a1-impostor', kernel_id: impostor, running: false })
  t.same(counters(agent), { calls: 4, batches: 0, kernels: 4 })
  await askBatch(agent.url, { agent_id: 'a1', kernel_ids: [dead, error] })
  t.same(counters(agent), { calls: 5, batches: 1, kernels: 6 }, 'both routes add up')
})

t.test('answerDelayMs is waited once per call, however many kernels a batch asks about', async (t) => {
  const delayMs = 100
  const agent = await AgentSimulator.start({ agentId: 'a1', answerDelayMs: delayMs })
  t.teardown(() => agent.close())
  const kernelIds = Array.from({ length: 30 }, () => randomUUID())
  for (const kernelId of kernelIds) agent.setKernel(kernelId, 'running')
  const timed = async (call: Promise<Response>) => {
    const started = performance.now()
    const { status } = await call
    return { status, ms: performance.now() - started }
  }

  const batch = await timed(askBatch(agent.url, { agent_id: 'a1', kernel_ids: kernelIds }))
  t.equal(batch.status, 200)
  t.ok(batch.ms >= delayMs - 5 && batch.ms < 10 * delayMs, `the batch waited once: ${batch.ms.toFixed(0)} ms`)
  const single = await timed(fetch(`${agent.url}/v1/kernels/${kernelIds[0]!}/running?agent_id=a1`))
  t.equal(single.status, 200)
  t.ok(single.ms >= delayMs - 5, `a per-kernel check waits too: ${single.ms.toFixed(0)} ms`)
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

t.test('against the real service: registration retried until it answers, then reconciliation stops the orphans', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app } = await testApp(t, 'own')
  const port = await freePort()
  const client = serviceClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 1_000 })
  const attempts: Array<number | null> = []
  const agent = await AgentSimulator.start({
    agentId: 'sim1',
    register: client.registrar('sim-group'),
    registerBackoff: { initialMs: 10, maxMs: 40 },
    onRegisterError: (_error, _attempt, retryInMs) => { attempts.push(retryInMs) },
    reconcileWith: client.reconcile,
    reconcileIntervalMs: 50,
  })
  t.teardown(() => agent.close())

  // Nothing listens yet: refused, again and again, with a backoff that stops growing.
  t.ok(await until(() => attempts.length >= 5), 'tried again while the service was down')
  t.same(attempts.slice(0, 4), [10, 20, 40, 40], 'doubling, up to the bound')
  t.equal(agent.lastReconciliation, undefined, 'no reconciliation before registration')

  await app.listen({ port, host: '127.0.0.1' })
  t.equal(await agent.registered, true, 'registered once the service answers')
  t.match((await app.inject({ method: 'GET', url: '/v1/agents/sim1' })).json(), { agent_id: 'sim1', address: agent.url, scaling_group: 'sim-group', status: 'ALIVE' })

  const put = (kernelId: string, agentId: string, status: string) => app.inject({
    method: 'PUT', url: `/v1/kernels/${kernelId}`, payload: { session_id: randomUUID(), scaling_group: 'sim-group', agent_id: agentId, status },
  })
  const [own, missing, terminated, others, unknown] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()]
  await put(own, 'sim1', 'RUNNING')
  await put(missing, 'sim1', 'PENDING')
  await put(terminated, 'sim1', 'TERMINATED')
  await put(others, 'sim2', 'RUNNING')
  for (const kernelId of [own, terminated, others, unknown]) agent.setKernel(kernelId, 'running')

  t.ok(await until(() => agent.orphansStopped.length === 3), 'the timer reconciled')
  t.same([...agent.orphansStopped].sort(), [terminated, others, unknown].sort(), 'final, another agent\'s and unknown kernels stopped')
  t.same(agent.lastReconciliation?.missing, [missing], 'missing is reported')
  t.equal(agent.behaviourOf(own), 'running', 'its own kernel runs on')
  for (const kernelId of [terminated, others, unknown]) t.equal(agent.behaviourOf(kernelId), 'dead')
  t.same([...agent.presence().keys()], [own], 'stopped kernels send no heartbeat')
  t.same(agent.runningKernels(), [own])
  t.same(await agent.reconcileNow(), { orphans: [], missing: [missing] }, 'nothing more to stop')
  t.equal((await app.inject({ method: 'GET', url: `/v1/kernels/${terminated}` })).json().status, 'TERMINATED', 'the service changed nothing')
})

t.test('registration: a 5xx is tried again, a 4xx is final', async (t) => {
  let refusals = 2
  const flaky = await fakeService(t, () => refusals-- > 0 ? [503, { detail: 'starting' }] : [200, {}])
  const attempts: number[] = []
  const agent = await AgentSimulator.start({
    agentId: 'a1',
    register: serviceClient({ url: flaky.url }).registrar('default'),
    registerBackoff: { initialMs: 5, maxMs: 5 },
    onRegisterError: (_error, attempt) => { attempts.push(attempt) },
  })
  t.teardown(() => agent.close())
  t.equal(await agent.registered, true)
  t.same(attempts, [1, 2])
  t.same(flaky.received.map((r) => [r.method, r.url, r.body]), Array.from({ length: 3 }, () => ['PUT', '/v1/agents/a1', { address: agent.url, scaling_group: 'default' }]))

  const refusing = await fakeService(t, () => [400, { detail: 'bad scaling_group' }])
  const retries: Array<number | null> = []
  const refused = await AgentSimulator.start({
    agentId: 'a2',
    register: serviceClient({ url: refusing.url }).registrar('default'),
    onRegisterError: (_error, _attempt, retryInMs) => { retries.push(retryInMs) },
  })
  t.teardown(() => refused.close())
  t.equal(await refused.registered, false, 'refused for good')
  t.same(retries, [null], 'not tried again')
  t.equal(refusing.received.length, 1)

  const never = await AgentSimulator.start({ agentId: 'a3', register: async () => { throw new Error('down') }, registerBackoff: { initialMs: 10_000, maxMs: 10_000 } })
  await never.close()
  t.equal(await never.registered, false, 'closing ends the retries')
})

t.test('reconciliation is skipped until registered, and `reconcile: false` turns it off', async (t) => {
  const orphan = randomUUID()
  const answer = (request: Received): [number, unknown?] => request.url?.endsWith('/reconcile') === true
    ? [200, { orphans: [orphan], missing: [] } satisfies Reconciliation]
    : [200, {}]
  const service = await fakeService(t, answer)
  const client = serviceClient({ url: service.url })
  let release: () => void = () => {}
  const registration = new Promise<void>((resolve) => { release = resolve })

  const agent = await AgentSimulator.start({ agentId: 'a1', register: async () => { await registration }, reconcileWith: client.reconcile, reconcileIntervalMs: 10 })
  t.teardown(() => agent.close())
  agent.setKernel(orphan, 'running')
  await sleep(80)
  t.same(service.received, [], 'not while unregistered')
  release()
  t.ok(await until(() => agent.behaviourOf(orphan) === 'dead'), 'reconciled once registered')
  t.same(service.received[0], { method: 'POST', url: '/v1/agents/a1/reconcile', body: { kernels: [orphan] }, auth: undefined })

  const off = await AgentSimulator.start({ agentId: 'a2', reconcileWith: client.reconcile, reconcile: false, reconcileIntervalMs: 10 })
  t.teardown(() => off.close())
  off.setKernel(orphan, 'running')
  await sleep(80)
  t.equal(await off.reconcileNow(), null, 'reconcileNow does nothing')
  t.equal(service.received.filter((r) => r.url === '/v1/agents/a2/reconcile').length, 0, 'never asked')
  t.equal(off.behaviourOf(orphan), 'running', 'the orphan runs on')
})

t.test('the agent-sim program (built by npm test): registers until the service answers, sends heartbeats, reconciles, serves checks', async (t) => {
  const orphan = randomUUID()
  let registrations = 0
  const service = await fakeService(t, (request) => {
    if (request.method === 'PUT') return registrations++ === 0 ? [503, { detail: 'starting' }] : [200, {}]
    if (request.url?.endsWith('/reconcile') === true) return [200, { orphans: [orphan], missing: [] }]
    return [204]
  })
  const port = await freePort()
  const kernelId = randomUUID()

  const child = spawn(process.execPath, [
    'dist/src/agents/simulator/cli.js', '--port', String(port), '--agent-id', 'a7', '--service', service.url,
    '--scaling-group', 'default', '--kernels', `${kernelId},${orphan}`, '--interval-sec', '1', '--reconcile-interval-sec', '0.1',
  ], { env: { ...process.env, AGENT_TOKEN: 'agent-secret' }, stdio: ['ignore', 'ignore', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })

  const reconciled = () => service.received.some((r) => r.url === '/v1/agents/a7/reconcile')
  t.ok(await until(() => reconciled() && service.received.some((r) => r.url === '/v1/agents/a7/presence')))
  const registering = { method: 'PUT', url: '/v1/agents/a7', body: { address: `http://127.0.0.1:${port}`, scaling_group: 'default' }, auth: 'Bearer agent-secret' }
  t.same(service.received.filter((r) => r.method === 'PUT'), [registering, registering], 'a 503, then registered')
  t.same(service.received.find((r) => r.url === '/v1/agents/a7/presence'), {
    method: 'POST', url: '/v1/agents/a7/presence', body: { kernels: { [kernelId]: true, [orphan]: true } }, auth: 'Bearer agent-secret',
  })
  t.same(service.received.find(reconciledRequest), {
    method: 'POST', url: '/v1/agents/a7/reconcile', body: { kernels: [kernelId, orphan] }, auth: 'Bearer agent-secret',
  })
  const ask = async (id: string) => (await fetch(`http://127.0.0.1:${port}/v1/kernels/${id}/running?agent_id=a7`)).json()
  t.same(await ask(kernelId), { agent_id: 'a7', kernel_id: kernelId, running: true })
  t.same(await ask(orphan), { agent_id: 'a7', kernel_id: orphan, running: false }, 'the orphan was stopped')
  t.same(await (await askBatch(`http://127.0.0.1:${port}`, { agent_id: 'a7', kernel_ids: [kernelId, orphan] })).json(), {
    agent_id: 'a7', running: { [kernelId]: true, [orphan]: false },
  }, 'batched checks too')

  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.equal(code, 0, 'stops cleanly')
})

t.test('the agent-sim program with --no-reconcile never reconciles', async (t) => {
  const service = await fakeService(t, (request) => [request.method === 'PUT' ? 200 : 204, request.method === 'PUT' ? {} : undefined])
  const port = await freePort()
  const child = spawn(process.execPath, [
    'dist/src/agents/simulator/cli.js', '--port', String(port), '--agent-id', 'a8', '--service', service.url,
    '--scaling-group', 'default', '--kernels', randomUUID(), '--reconcile-interval-sec', '0.05', '--no-reconcile',
  ], { stdio: ['ignore', 'ignore', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  t.ok(await until(() => service.received.some((r) => r.method === 'PUT') && service.received.some((r) => r.url === '/v1/agents/a8/presence')))
  await sleep(300)
  t.same(service.received.filter((r) => r.url?.endsWith('/reconcile') === true), [])
  child.kill('SIGTERM')
  await once(child, 'exit')
})

t.test('the agent-sim program with --no-batch is a v1 agent, and says so', async (t) => {
  const service = await fakeService(t, () => [204])
  const port = await freePort()
  const kernelId = randomUUID()
  const child = spawn(process.execPath, [
    'dist/src/agents/simulator/cli.js', '--port', String(port), '--agent-id', 'a9', '--service', service.url, '--kernels', kernelId, '--no-batch',
  ], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const lines = createInterface({ input: child.stdout })
  let listening: unknown
  for await (const line of lines) {
    const entry = JSON.parse(line) as { msg?: string }
    if (entry.msg === 'agent simulator listening') {
      listening = entry
      break
    }
  }
  t.match(listening, { agent_id: 'a9', batch: false }, 'the listening line says it')
  const url = `http://127.0.0.1:${port}`
  t.equal((await askBatch(url, { agent_id: 'a9', kernel_ids: [kernelId] })).status, 404, 'no batched route')
  t.same(await (await fetch(`${url}/v1/kernels/${kernelId}/running?agent_id=a9`)).json(), { agent_id: 'a9', kernel_id: kernelId, running: true })
  child.kill('SIGTERM')
  await once(child, 'exit')
})

function reconciledRequest (request: Received): boolean {
  return request.url?.endsWith('/reconcile') === true
}
