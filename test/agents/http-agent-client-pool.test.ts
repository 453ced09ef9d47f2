import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import {
  AgentHttpStatusError, AgentMalformedResponseError, AgentMismatchError, AgentTimeoutError, AgentUnknownError,
  AgentUnreachableError,
} from '../../src/agents/agent-errors.js'
import { HttpAgentClientPool } from '../../src/agents/http-agent-client-pool.js'
import { AgentSimulator, type KernelBehaviour } from '../../src/agents/simulator/agent-simulator.js'
import { ContractAgent } from '../helpers/contract-agent.js'
import { freePort } from '../helpers/redis.js'

class Directory {
  /** The agent ids of each lookup, one entry per query. */
  readonly queries: string[][] = []
  readonly addresses = new Map<string, string>()
  get lookups (): string[] {
    return this.queries.flat()
  }

  async addressesOf (agentIds: readonly string[]): Promise<Map<string, string>> {
    this.queries.push([...agentIds])
    return new Map(agentIds.flatMap((agentId) => {
      const address = this.addresses.get(agentId)
      return address === undefined ? [] : [[agentId, address] as const]
    }))
  }
}

async function setup (t: Test, timeoutMs = 500) {
  const agent = await AgentSimulator.start({ agentId: 'a1' })
  const directory = new Directory()
  directory.addresses.set('a1', agent.url)
  const pool = new HttpAgentClientPool({ directory, timeoutMs })
  t.teardown(async () => { await pool.close(); await agent.close() })
  return { agent, directory, pool }
}

/** A server that answers every request with `handler`, for answers no simulator gives. */
async function rawServer (t: Test, handler: RequestListener): Promise<string> {
  const server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('true and false come back as the agent said them', async (t) => {
  const { agent, pool } = await setup(t)
  const [alive, dead, unknown] = [randomUUID(), randomUUID(), randomUUID()]
  agent.setKernel(alive, 'running')
  agent.setKernel(dead, 'dead')
  const client = await pool.acquire('a1')
  t.same(await client.checkRunning(alive), { agentId: 'a1', kernelId: alive, running: true })
  t.same(await client.checkRunning(dead), { agentId: 'a1', kernelId: dead, running: false })
  t.same(await client.checkRunning(unknown), { agentId: 'a1', kernelId: unknown, running: false }, 'a kernel the agent does not have does not run')
  t.equal(agent.checksServed, 3)
})

t.test('every way an agent can fail is a typed error', async (t) => {
  const cases: Array<[KernelBehaviour, new (...args: never[]) => Error]> = [
    ['error', AgentHttpStatusError],
    ['garbage', AgentMalformedResponseError],
    ['impostor', AgentMismatchError],
    ['half-close', AgentUnreachableError],
    ['hang', AgentTimeoutError],
  ]
  const { agent, pool } = await setup(t, 300)
  const client = await pool.acquire('a1')
  for (const [behaviour, errorClass] of cases) {
    const kernelId = randomUUID()
    agent.setKernel(kernelId, behaviour)
    const started = Date.now()
    await t.rejects(client.checkRunning(kernelId), errorClass, behaviour)
    if (behaviour === 'hang') t.ok(Date.now() - started < 1_000, `hang gave up after ${Date.now() - started} ms`)
  }
  t.ok((await client.checkRunning(randomUUID())).running === false, 'the pool still works after all that')
})

t.test('another agent at the address answers 404: a mismatch', async (t) => {
  const { agent, directory, pool } = await setup(t)
  const newcomer = await AgentSimulator.start({ agentId: 'a2' })
  t.teardown(() => newcomer.close())
  directory.addresses.set('a1', newcomer.url) // a1 died; a2 took its address
  agent.setKernel(randomUUID(), 'running')
  await t.rejects((await pool.acquire('a1')).checkRunning(randomUUID()), AgentMismatchError)
})

t.test('refused connection, unknown agent', async (t) => {
  const directory = new Directory()
  directory.addresses.set('gone', `http://127.0.0.1:${await freePort()}`)
  const pool = new HttpAgentClientPool({ directory, timeoutMs: 500 })
  t.teardown(() => pool.close())
  await t.rejects((await pool.acquire('gone')).checkRunning(randomUUID()), AgentUnreachableError)
  await t.rejects(pool.acquire('never-registered'), AgentUnknownError)
})

t.test('answers that are not contract §5 are malformed', async (t) => {
  const kernelId = randomUUID()
  const bodies: Array<[string, string]> = [
    ['running as a string', JSON.stringify({ agent_id: 'a1', kernel_id: kernelId, running: 'false' })],
    ['running missing', JSON.stringify({ agent_id: 'a1', kernel_id: kernelId })],
    ['another kernel', JSON.stringify({ agent_id: 'a1', kernel_id: randomUUID(), running: false })],
    ['null', 'null'],
    ['too large', JSON.stringify({ agent_id: 'a1', kernel_id: kernelId, running: false, pad: 'x'.repeat(100_000) })],
  ]
  for (const [name, body] of bodies) {
    const url = await rawServer(t, (_request, response) => { response.writeHead(200); response.end(body) })
    const directory = new Directory()
    directory.addresses.set('a1', url)
    const pool = new HttpAgentClientPool({ directory, timeoutMs: 500 })
    t.teardown(() => pool.close())
    await t.rejects((await pool.acquire('a1')).checkRunning(kernelId), AgentMalformedResponseError, name)
  }
})

t.test('the request carries the kernel id and the agent id, and keeps its connection', async (t) => {
  const seen: Array<{ url: string | undefined, socket: number }> = []
  const sockets = new Map<unknown, number>()
  const url = await rawServer(t, (request, response) => {
    if (!sockets.has(request.socket)) sockets.set(request.socket, sockets.size)
    seen.push({ url: request.url, socket: sockets.get(request.socket)! })
    const kernelId = /\/v1\/kernels\/([^/]+)\/running/.exec(request.url ?? '')?.[1]
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ agent_id: 'i-agent:01', kernel_id: kernelId, running: true }))
  })
  const directory = new Directory()
  directory.addresses.set('i-agent:01', url)
  const pool = new HttpAgentClientPool({ directory, timeoutMs: 500 })
  t.teardown(() => pool.close())
  const kernelId = randomUUID()
  const client = await pool.acquire('i-agent:01')
  for (let i = 0; i < 3; i++) {
    await client.checkRunning(kernelId)
    await new Promise((resolve) => setTimeout(resolve, 10)) // let the connection go back to the pool
  }
  t.equal(seen[0]?.url, `/v1/kernels/${kernelId}/running?agent_id=i-agent%3A01`)
  t.same(seen.map((s) => s.socket), [0, 0, 0], 'keep-alive: one connection for every call')
})

t.test('agents acquired together are looked up in one query', async (t) => {
  const directory = new Directory()
  const agentIds = Array.from({ length: 50 }, (_, i) => `a${i}`)
  for (const agentId of agentIds) directory.addresses.set(agentId, `http://127.0.0.1:${9000 + Number(agentId.slice(1))}`)
  const pool = new HttpAgentClientPool({ directory, timeoutMs: 500 })
  t.teardown(() => pool.close())

  const acquired = await Promise.allSettled([...agentIds, 'never-registered'].map((agentId) => pool.acquire(agentId)))

  t.same(directory.queries, [[...agentIds, 'never-registered']], 'one query for all of them')
  t.equal(acquired.filter((result) => result.status === 'fulfilled').length, 50)
  t.type((acquired.at(-1) as PromiseRejectedResult).reason, AgentUnknownError, 'an agent not registered is unknown')
})

t.test('addresses are looked up once, and again after their time is up', async (t) => {
  const directory = new Directory()
  const first = await AgentSimulator.start({ agentId: 'a1' })
  const second = await AgentSimulator.start({ agentId: 'a1' })
  t.teardown(async () => { await first.close(); await second.close() })
  directory.addresses.set('a1', first.url)
  const pool = new HttpAgentClientPool({ directory, timeoutMs: 500, addressTtlMs: 100 })
  t.teardown(() => pool.close())

  await (await pool.acquire('a1')).checkRunning(randomUUID())
  await (await pool.acquire('a1')).checkRunning(randomUUID())
  t.equal(directory.lookups.length, 1, 'cached')
  directory.addresses.set('a1', second.url) // re-registered elsewhere
  await new Promise((resolve) => setTimeout(resolve, 150))
  await (await pool.acquire('a1')).checkRunning(randomUUID())
  t.equal(directory.lookups.length, 2)
  t.same([first.checksServed, second.checksServed], [2, 1], 'the new address is used')
})

t.test('an answer with a repeated key is malformed, whichever value comes last', async (t) => {
  const kernelId = randomUUID()
  const bodies: Array<[string, string]> = [
    ['running true, then false', `{"agent_id":"a1","kernel_id":"${kernelId}","running": true, "running": false}`],
    ['running false, then true', `{"agent_id":"a1","kernel_id":"${kernelId}","running": false, "running": true}`],
    ['running spelt twice', `{"agent_id":"a1","kernel_id":"${kernelId}","running": true, "r\\u0075nning": false}`],
    ['agent_id twice', `{"agent_id":"a2","agent_id":"a1","kernel_id":"${kernelId}","running": false}`],
  ]
  for (const [name, body] of bodies) {
    const url = await rawServer(t, (_request, response) => { response.writeHead(200, { 'content-type': 'application/json' }); response.end(body) })
    const directory = new Directory()
    directory.addresses.set('a1', url)
    const pool = new HttpAgentClientPool({ directory, timeoutMs: 500 })
    t.teardown(() => pool.close())
    const error = await (await pool.acquire('a1')).checkRunning(kernelId).catch((error: unknown) => error)
    t.type(error, AgentMalformedResponseError, name)
    t.match((error as Error).message, /appears more than once in \//, `${name}: the message says why`)
  }
})

t.test('a call abandoned by its caller rejects with the caller\'s reason, not as a timeout', async (t) => {
  const { agent, pool } = await setup(t, 2_000)
  const kernelId = randomUUID()
  agent.hang(kernelId)
  const client = await pool.acquire('a1')
  const shutdown = new AbortController()
  const reason = new Error('shutting down')
  const pending = client.checkRunning(kernelId, shutdown.signal)
  while (agent.checksServed === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  const started = Date.now()
  shutdown.abort(reason)
  t.equal(await pending.catch((error: unknown) => error), reason, 'the very reason')
  t.ok(Date.now() - started < 200, `abandoned in ${Date.now() - started} ms, not after the 2 s timeout`)

  const served = agent.checksServed
  t.equal(await client.checkRunning(randomUUID(), shutdown.signal).catch((error: unknown) => error), reason, 'already aborted: rejected…')
  t.equal(agent.checksServed, served, '…without asking the agent')

  const unknown = randomUUID()
  t.same(await client.checkRunning(unknown, new AbortController().signal), { agentId: 'a1', kernelId: unknown, running: false },
    'with a signal that does not abort, answers come back…')
  const quick = await setup(t, 200)
  const hung = randomUUID()
  quick.agent.hang(hung)
  await t.rejects((await quick.pool.acquire('a1')).checkRunning(hung, new AbortController().signal), AgentTimeoutError,
    '…and the timeout is still a timeout')
})

// ---------------------------------------------------------------------------------------------
// The batched route of contract §5 (issue 13), against agents on real sockets.

/** A pool over `addresses` whose clock the test moves (`clock.ms`). */
function batchPool (t: Test, addresses: Record<string, string>, { timeoutMs = 500, batchRetryMs = 60_000 } = {}) {
  const directory = new Directory()
  for (const [agentId, address] of Object.entries(addresses)) directory.addresses.set(agentId, address)
  const clock = { ms: 1_000_000 }
  const pool = new HttpAgentClientPool({ directory, timeoutMs, batchRetryMs, now: () => clock.ms })
  t.teardown(() => pool.close())
  return { directory, pool, clock }
}

/** A server that answers every request 200 with `body` as JSON. */
const answering = (t: Test, body: string): Promise<string> => rawServer(t, (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' })
  response.end(body)
})

t.test('a batch call is a POST to /v1/kernels/running of { agent_id, kernel_ids } as JSON', async (t) => {
  const agent = await ContractAgent.start(t, 'i-agent:01')
  const { pool } = batchPool(t, { 'i-agent:01': agent.url })
  const kernelIds = [randomUUID(), randomUUID(), randomUUID()]
  agent.answers.set(kernelIds[1]!, true)

  const answer = await (await pool.acquire('i-agent:01')).checkRunningBatch(kernelIds)

  t.equal(agent.requests.length, 1, 'one request for the three kernels')
  const [post] = agent.posts
  t.equal(post?.method, 'POST')
  t.equal(post?.path, '/v1/kernels/running')
  t.equal([...post?.query.keys() ?? []].length, 0, 'no query: the agent id is in the body')
  t.match(post?.headers['content-type'], /^application\/json\b/, 'content-type: application/json')
  t.same(JSON.parse(post?.body ?? ''), { agent_id: 'i-agent:01', kernel_ids: kernelIds }, 'the body, ids in the order given')
  t.equal(answer?.agentId, 'i-agent:01')
  t.same([...answer?.running ?? []], [[kernelIds[0], false], [kernelIds[1], true], [kernelIds[2], false]])
})

t.test('a 200 batch answer: only the kernels asked are kept, left-out ones absent, every value as the agent said it', async (t) => {
  const [dead, alive, quoted, nulled, zero, object, leftOut, stranger] = Array.from({ length: 8 }, () => randomUUID())
  const url = await answering(t, JSON.stringify({
    agent_id: 'a1',
    running: { [dead!]: false, [alive!]: true, [quoted!]: 'false', [nulled!]: null, [zero!]: 0, [object!]: { running: false }, [stranger!]: false },
  }))
  const { pool } = batchPool(t, { a1: url })

  const answer = await (await pool.acquire('a1')).checkRunningBatch([dead!, alive!, quoted!, nulled!, zero!, object!, leftOut!])

  t.equal(answer?.agentId, 'a1')
  t.same(new Map(answer?.running), new Map<string, unknown>([
    [dead!, false], [alive!, true], [quoted!, 'false'], [nulled!, null], [zero!, 0], [object!, { running: false }],
  ]), 'non-boolean values are kept as they are, for the caller to judge')
  t.equal(answer?.running.has(leftOut!), false, 'a kernel the answer left out is absent, not false')
  t.equal(answer?.running.has(stranger!), false, 'a kernel the agent named but nobody asked about is dropped')
})

t.test('a batch answer naming another agent is a mismatch', async (t) => {
  const kernelId = randomUUID()
  const url = await answering(t, JSON.stringify({ agent_id: 'a2', running: { [kernelId]: false } }))
  const impostor = await AgentSimulator.start({ agentId: 'a1' })
  t.teardown(() => impostor.close())
  impostor.setKernel(kernelId, 'impostor')
  const { pool } = batchPool(t, { a1: url })
  await t.rejects((await pool.acquire('a1')).checkRunningBatch([kernelId]), AgentMismatchError, 'a body naming a2')
  const { pool: simulated } = batchPool(t, { a1: impostor.url })
  await t.rejects((await simulated.acquire('a1')).checkRunningBatch([kernelId, randomUUID()]), AgentMismatchError, 'the simulator\'s impostor')
})

t.test('batch answers that are not contract §5 are malformed; fromAgent says whether they named the agent asked (rule 12)', async (t) => {
  const kernelId = randomUUID()
  const cases: Array<[name: string, body: string, fromAgent: boolean]> = [
    ['not JSON', '<html>not json</html>', false],
    ['null', 'null', false],
    ['an array', `[{"agent_id":"a1","running":{"${kernelId}":false}}]`, false],
    ['no agent_id', `{"running":{"${kernelId}":false}}`, false],
    ['agent_id twice, another agent first', `{"agent_id":"a2","agent_id":"a1","running":{"${kernelId}":false}}`, false],
    ['a kernel id twice in running', `{"agent_id":"a1","running":{"${kernelId}":true,"${kernelId}":false}}`, true],
    ['running twice', `{"agent_id":"a1","running":{"${kernelId}":true},"running":{"${kernelId}":false}}`, true],
    ['running an array', `{"agent_id":"a1","running":["${kernelId}"]}`, true],
    ['running a boolean', '{"agent_id":"a1","running":false}', true],
    ['running null', '{"agent_id":"a1","running":null}', true],
    ['running missing', '{"agent_id":"a1"}', true],
  ]
  for (const [name, body, fromAgent] of cases) {
    const { pool } = batchPool(t, { a1: await answering(t, body) })
    const error = await (await pool.acquire('a1')).checkRunningBatch([kernelId]).catch((error: unknown) => error)
    t.type(error, AgentMalformedResponseError, `${name}: malformed`)
    t.equal((error as AgentMalformedResponseError).fromAgent, fromAgent, `${name}: fromAgent ${fromAgent}`)
  }
})

t.test('404, 405 and 501 on the batch route: null, then per kernel until AGENT_BATCH_RETRY_SEC has passed or the agent is forgotten', async (t) => {
  for (const status of [404, 405, 501] as const) {
    await t.test(`HTTP ${status}`, async (t) => {
      const v1 = await ContractAgent.start(t, 'a1', { batchRoute: status })
      const modern = await ContractAgent.start(t, 'a2')
      const { pool, clock, directory } = batchPool(t, { a1: v1.url, a2: modern.url }, { batchRetryMs: 60_000 })
      const kernelId = randomUUID()
      v1.answers.set(kernelId, true)

      const client = await pool.acquire('a1')
      t.equal(client.batches, true, 'nothing known yet: batches')
      t.equal(await client.checkRunningBatch([kernelId]), null, 'the signal: null, not an error')
      t.equal(v1.posts.length, 1)
      t.equal((await pool.acquire('a1')).batches, false, 'the next acquire: per kernel')
      t.same(await (await pool.acquire('a1')).checkRunning(kernelId), { agentId: 'a1', kernelId, running: true }, 'the per-kernel route answers')
      t.equal((await pool.acquire('a2')).batches, true, 'another agent is not affected')
      t.ok(await (await pool.acquire('a2')).checkRunningBatch([kernelId]), 'and still answers batches')

      clock.ms += 59_999
      t.equal((await pool.acquire('a1')).batches, false, 'still per kernel 1 ms before the retry time')
      clock.ms += 1
      t.equal((await pool.acquire('a1')).batches, true, 'batches again once AGENT_BATCH_RETRY_SEC has passed')
      t.equal(await (await pool.acquire('a1')).checkRunningBatch([kernelId]), null, 'still a v1 agent: the signal again')
      t.equal(v1.posts.length, 2)
      t.equal((await pool.acquire('a1')).batches, false, 'remembered again, for another AGENT_BATCH_RETRY_SEC')

      const lookups = directory.lookups.length
      pool.forget('a1')
      t.equal((await pool.acquire('a1')).batches, true, 'forgotten (re-registered): batches at once')
      t.equal(directory.lookups.length, lookups + 1, 'and its address is looked up again')
      t.equal(v1.gets.length, 1, 'the pool never asked per kernel by itself')
    })
  }
})

t.test('other statuses on the batch route are errors, not the signal: the agent is still asked in batches', async (t) => {
  for (const status of [500, 503, 400, 403]) {
    const url = await rawServer(t, (_request, response) => { response.writeHead(status).end() })
    const { pool } = batchPool(t, { a1: url })
    const error = await (await pool.acquire('a1')).checkRunningBatch([randomUUID()]).catch((error: unknown) => error)
    t.type(error, AgentHttpStatusError, `HTTP ${status}: AgentHttpStatusError`)
    t.equal((error as AgentHttpStatusError).statusCode, status)
    t.equal((await pool.acquire('a1')).batches, true, `HTTP ${status}: batches stays true`)
  }
})

t.test('a batch call that gets no answer within the timeout is a timeout; so is one whose body stops half-way', async (t) => {
  const hung = await ContractAgent.start(t, 'a1')
  hung.hang = true
  const stalled = await rawServer(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
    response.write('{"agent_id":"a2","running":{')
  })
  const { pool } = batchPool(t, { a1: hung.url, a2: stalled }, { timeoutMs: 300 })
  for (const agentId of ['a1', 'a2']) {
    const started = Date.now()
    await t.rejects((await pool.acquire(agentId)).checkRunningBatch([randomUUID(), randomUUID()]), AgentTimeoutError, agentId)
    const elapsed = Date.now() - started
    t.ok(elapsed >= 250 && elapsed < 1_000, `${agentId} gave up after ${elapsed} ms (timeout 300 ms)`)
    t.equal((await pool.acquire(agentId)).batches, true, 'a timeout is not the signal')
  }
})

t.test('a refused batch call is unreachable, and not the signal', async (t) => {
  const { pool } = batchPool(t, { gone: `http://127.0.0.1:${await freePort()}` })
  await t.rejects((await pool.acquire('gone')).checkRunningBatch([randomUUID()]), AgentUnreachableError)
  t.equal((await pool.acquire('gone')).batches, true)
})

t.test('a batch answer larger than its bound is malformed; the bound grows with the kernels asked', async (t) => {
  const one = randomUUID()
  const padded = (kernelIds: readonly string[], padding: number): string =>
    JSON.stringify({ agent_id: 'a1', running: Object.fromEntries(kernelIds.map((id) => [id, false])), pad: 'x'.repeat(padding) })
  const { pool: small } = batchPool(t, { a1: await answering(t, padded([one], 100_000)) })
  const tooLarge = await (await small.acquire('a1')).checkRunningBatch([one]).catch((error: unknown) => error)
  t.type(tooLarge, AgentMalformedResponseError, '100 kB about one kernel')
  t.match((tooLarge as Error).message, /larger than/)

  const thousand = Array.from({ length: 1000 }, () => randomUUID())
  const honest = padded(thousand, 0)
  t.ok(honest.length > 40_000, `an honest answer about 1000 kernels is ${honest.length} bytes`)
  const { pool: large } = batchPool(t, { a1: await answering(t, honest) })
  const answer = await (await large.acquire('a1')).checkRunningBatch(thousand)
  t.equal(answer?.running.size, 1000, 'read whole: the bound counts the kernels asked')
  const { pool: huge } = batchPool(t, { a1: await answering(t, padded(thousand, 200_000)) })
  await t.rejects((await huge.acquire('a1')).checkRunningBatch(thousand), AgentMalformedResponseError, '…but not without end')
})

t.test('a batch call abandoned by its caller rejects with the caller\'s reason, at once, and an aborted one is never sent', async (t) => {
  const agent = await ContractAgent.start(t, 'a1')
  agent.hang = true
  const { pool } = batchPool(t, { a1: agent.url }, { timeoutMs: 2_000 })
  const client = await pool.acquire('a1')
  const shutdown = new AbortController()
  const reason = new Error('shutting down')
  const pending = client.checkRunningBatch([randomUUID()], shutdown.signal).catch((error: unknown) => error)
  while (agent.posts.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  const started = Date.now()
  shutdown.abort(reason)
  t.equal(await pending, reason, 'the very reason')
  t.ok(Date.now() - started < 200, `abandoned in ${Date.now() - started} ms, not after the 2 s timeout`)
  t.equal(await client.checkRunningBatch([randomUUID()], shutdown.signal).catch((error: unknown) => error), reason, 'already aborted: rejected…')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(agent.posts.length, 1, '…without asking the agent')
  t.equal((await pool.acquire('a1')).batches, true, 'an abandoned call says nothing about the route')
})

t.test('an agent that does not host the agent id: the batch route says "not here" (null), the per-kernel route is a mismatch', async (t) => {
  const newcomer = await AgentSimulator.start({ agentId: 'a2' })
  t.teardown(() => newcomer.close())
  const { pool } = batchPool(t, { a1: newcomer.url })
  const client = await pool.acquire('a1')
  t.equal(await client.checkRunningBatch([randomUUID()]), null, 'a 404 on the batch route is only the signal')
  await t.rejects(client.checkRunning(randomUUID()), AgentMismatchError, 'the per-kernel 404 decides')
  t.equal(newcomer.kernelsAsked, 0, 'it answered nothing for a1')
})
