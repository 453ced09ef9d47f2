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
import { freePort } from '../helpers/redis.js'

class Directory {
  readonly lookups: string[] = []
  readonly addresses = new Map<string, string>()
  async get (agentId: string): Promise<{ address: string } | null> {
    this.lookups.push(agentId)
    const address = this.addresses.get(agentId)
    return address === undefined ? null : { address }
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
