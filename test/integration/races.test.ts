import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { skipWithoutRedis } from '../helpers/redis.js'
import { startScriptedAgent } from '../helpers/scripted-agent.js'

/*
 * The two races that used to kill a live kernel (contract §2 rule 4): between the sweep's read of
 * a kernel and its termination, the kernel is restarted (and RUNNING again) or moved to another
 * agent. Reproduced on real Postgres with a real agent on a socket, which changes the kernel
 * through the service's API while the sweep waits for its answer. Then concurrent creators of the
 * same kernel, which used to lose history rows.
 */

const GROUP = 'g'

interface HistoryRow { from_status: string, to_status: string, reason: string | null, sweep_id: string | null }

async function putKernel (app: FastifyInstance, id: string, fields: Record<string, unknown>) {
  return app.inject({ method: 'PUT', url: `/v1/kernels/${id}`, payload: fields })
}

async function getKernel (app: FastifyInstance, id: string) {
  const response = await app.inject({ method: 'GET', url: `/v1/kernels/${id}` })
  return response.json()
}

async function historyOf (app: FastifyInstance, id: string): Promise<HistoryRow[]> {
  return (await app.inject({ method: 'GET', url: `/v1/kernels/${id}/history` })).json().items
}

/** A sweep of the agent's kernel, which has no heartbeat: a suspect whose agent is asked. */
async function setUp (t: Test) {
  const { app } = await testApp(t, 'own', { AGENT_RPC_TIMEOUT_MS: '5000' })
  const agent = await startScriptedAgent(t, 'A')
  const registered = await app.inject({ method: 'PUT', url: '/v1/agents/A', payload: { address: agent.url, scaling_group: GROUP } })
  t.equal(registered.statusCode, 200, 'agent A registered')
  const kernelId = randomUUID()
  const spec = { session_id: randomUUID(), scaling_group: GROUP, agent_id: 'A', status: 'RUNNING' }
  const created = await putKernel(app, kernelId, spec)
  t.equal(created.statusCode, 200)
  t.equal(created.json().version, 1)
  const sweep = async () => {
    const response = await app.inject({ method: 'POST', url: `/v1/scaling-groups/${GROUP}/sweeps`, payload: {} })
    t.equal(response.statusCode, 201, 'the sweep answers 201')
    return response.json()
  }
  return { app, agent, kernelId, spec, sweep }
}

const skip = (await skipWithoutPostgres()) || (await skipWithoutRedis())

t.test('control: an agent that says "not running" and a kernel nobody touches: terminated', { skip }, async (t) => {
  const { app, agent, kernelId, sweep } = await setUp(t)

  const result = await sweep()

  t.same(agent.asked, [kernelId], 'the agent was asked over its socket')
  t.equal(result.outcome, 'completed')
  t.same(result.result.failures, [{ kernel_id: kernelId, from_status: 'RUNNING', reason: 'STALE_KERNEL' }])
  t.same(result.terminated, [kernelId])
  t.match(await getKernel(app, kernelId), { status: 'TERMINATED', status_info: 'STALE_KERNEL', version: 2 })
  t.match(await historyOf(app, kernelId), [{ from_status: 'RUNNING', to_status: 'TERMINATED', reason: 'STALE_KERNEL', sweep_id: result.sweep_id }])
  t.equal((await historyOf(app, kernelId)).length, 1)
})

t.test('race (a): restarted during the agent call, RUNNING again in a new container: left alone', { skip }, async (t) => {
  const { app, agent, kernelId, spec, sweep } = await setUp(t)
  agent.before.set(kernelId, async () => {
    const restarting = await putKernel(app, kernelId, { ...spec, status: 'RESTARTING' })
    t.equal(restarting.statusCode, 200, 'PUT RESTARTING during the sweep')
    t.equal(restarting.json().version, 2)
    const running = await putKernel(app, kernelId, { ...spec, status: 'RUNNING' })
    t.equal(running.statusCode, 200, 'PUT RUNNING again during the sweep')
    t.equal(running.json().version, 3)
  })

  const result = await sweep()

  t.same(agent.asked, [kernelId])
  t.equal(agent.before.size, 0, 'the race ran')
  t.equal(result.outcome, 'completed')
  t.same(result.result.failures, [{ kernel_id: kernelId, from_status: 'RUNNING', reason: 'STALE_KERNEL' }], 'the agent\'s "false" is still reported')
  t.same(result.terminated, [], 'but the kernel, changed since it was read, is not terminated')
  t.match(await getKernel(app, kernelId), { status: 'RUNNING', status_info: null, terminated_at: null, version: 3 })
  const history = await historyOf(app, kernelId)
  t.same(history.map((row) => [row.from_status, row.to_status, row.sweep_id]), [
    ['RUNNING', 'RESTARTING', null],
    ['RESTARTING', 'RUNNING', null],
  ], 'the two PUT rows and no TERMINATED row')
  t.same((await app.inject({ method: 'GET', url: `/v1/sweeps/${result.sweep_id}` })).json(), result, 'recorded as answered')
})

t.test('race (b): moved to another agent during the agent call, status unchanged: left alone', { skip }, async (t) => {
  const { app, agent, kernelId, spec, sweep } = await setUp(t)
  agent.before.set(kernelId, async () => {
    const moved = await putKernel(app, kernelId, { ...spec, agent_id: 'B' })
    t.equal(moved.statusCode, 200, 'PUT agent_id B during the sweep')
    t.equal(moved.json().version, 2)
  })

  const result = await sweep()

  t.same(agent.asked, [kernelId])
  t.equal(agent.before.size, 0, 'the race ran')
  t.same(result.result.failures, [{ kernel_id: kernelId, from_status: 'RUNNING', reason: 'STALE_KERNEL' }])
  t.same(result.terminated, [])
  t.match(await getKernel(app, kernelId), { status: 'RUNNING', agent_id: 'B', status_info: null, version: 2 })
  t.same(await historyOf(app, kernelId), [], 'no history row: the status never changed')
})

/** The history of a kernel forms one chain ending at its status, and its version counts the changes. */
function checkChain (t: Test, kernel: { kernel_id: string, status: string, version: number }, history: HistoryRow[], label: string): void {
  for (const [index, row] of history.entries()) {
    t.not(row.from_status, row.to_status, `${label}: row ${index} is a change`)
    if (index > 0) t.equal(row.from_status, history[index - 1]!.to_status, `${label}: row ${index} follows row ${index - 1}`)
    t.equal(row.sweep_id, null, `${label}: row ${index} came from a PUT`)
  }
  if (history.length > 0) t.equal(history.at(-1)!.to_status, kernel.status, `${label}: the chain ends at the kernel's status`)
  t.equal(kernel.version, 1 + history.length, `${label}: version = 1 + history rows`)
}

t.test('concurrent creators of one kernel lose no history row', { skip }, async (t) => {
  const { app } = await testApp(t, 'own')
  const statuses = ['RUNNING', 'TERMINATED', 'RESTARTING']
  const TRIALS = 40
  let failed = 0
  const creators = new Map<string, number>()
  for (let trial = 0; trial < TRIALS; trial++) {
    const id = randomUUID()
    const sessionId = randomUUID()
    // app.inject runs the three in parallel, each in a transaction on a connection of its own.
    const responses = await Promise.all(statuses.map((status) =>
      putKernel(app, id, { session_id: sessionId, scaling_group: GROUP, agent_id: 'A', status })))
    const codes = responses.map((response) => response.statusCode)
    const kernel = await getKernel(app, id)
    const history = await historyOf(app, id)
    const summary = `trial ${trial}: ${JSON.stringify({ codes, history: history.map((row) => `${row.from_status}>${row.to_status}`), status: kernel.status, version: kernel.version })}`
    // Pairwise different statuses: every write after the first one is a change.
    const ok = codes.every((code) => code === 200) &&
      history.length === 2 &&
      kernel.version === 3 &&
      history[0]!.to_status === history[1]!.from_status &&
      history[1]!.to_status === kernel.status &&
      history.every((row) => row.from_status !== row.to_status && row.sweep_id === null) &&
      new Set([history[0]!.from_status, history[0]!.to_status, history[1]!.to_status]).size === 3 &&
      // Each writer answered the kernel as its own transaction left it.
      responses.every((response, index) => response.json().status === statuses[index]) &&
      new Set(responses.map((response) => response.json().version)).size === 3 &&
      responses.every((response) => response.headers.etag === `"${response.json().version}"`)
    if (!ok) {
      failed++
      t.fail(summary)
      checkChain(t, kernel, history, `trial ${trial}`)
    }
    const creator = history[0]?.from_status ?? kernel.status
    creators.set(creator, (creators.get(creator) ?? 0) + 1)
  }
  t.comment(`which writer created the kernel: ${JSON.stringify(Object.fromEntries(creators))}`)
  t.equal(failed, 0, `${TRIALS} trials of 3 parallel creators: 2 history rows each, one chain, version 3`)
})

t.test('concurrent bulk creators with overlapping kernels in different orders: no deadlock, no lost row', { skip }, async (t) => {
  const { app } = await testApp(t, 'own')
  const TRIALS = 10
  const KERNELS = 30
  let failed = 0
  for (let trial = 0; trial < TRIALS; trial++) {
    const ids = Array.from({ length: KERNELS }, () => randomUUID())
    const sessionId = randomUUID()
    // The first takes ids 0–19 in the order given, the second 10–29 reversed: 10–19 are in both.
    const first = ids.slice(0, 20)
    const second = ids.slice(10).reverse()
    const entries = (list: string[], status: string) => list.map((id) => ({
      kernel_id: id, session_id: sessionId, scaling_group: GROUP, agent_id: 'A', status,
    }))
    const responses = await Promise.all([
      app.inject({ method: 'PUT', url: '/v1/kernels', payload: { kernels: entries(first, 'RUNNING') } }),
      app.inject({ method: 'PUT', url: '/v1/kernels', payload: { kernels: entries(second, 'RESTARTING') } }),
    ])
    for (const response of responses) {
      if (response.statusCode !== 200) {
        failed++
        t.fail(`trial ${trial}: ${response.statusCode} ${response.body}`)
      }
    }
    if (responses.some((response) => response.statusCode !== 200)) continue
    t.same(responses.map((response) => response.json()), [{ upserted: 20 }, { upserted: 20 }], `trial ${trial}: both applied`)
    for (const [index, id] of ids.entries()) {
      const kernel = await getKernel(app, id)
      const history = await historyOf(app, id)
      const overlap = index >= 10 && index < 20
      const expectedRows = overlap ? 1 : 0
      if (history.length !== expectedRows || kernel.version !== 1 + expectedRows ||
        (overlap && (history[0]!.to_status !== kernel.status || history[0]!.from_status === kernel.status)) ||
        (!overlap && kernel.status !== (index < 10 ? 'RUNNING' : 'RESTARTING'))) {
        failed++
        t.fail(`trial ${trial}, kernel ${index}: ${JSON.stringify({ status: kernel.status, version: kernel.version, history })}`)
        checkChain(t, kernel, history, `trial ${trial}, kernel ${index}`)
      }
    }
  }
  t.equal(failed, 0, `${TRIALS} trials of 2 parallel bulk PUTs: both 200, every shared kernel one history row, version 2`)
})
