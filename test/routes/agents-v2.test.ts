import { randomUUID } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { freePort, skipWithoutRedis } from '../helpers/redis.js'
import { AgentSimulator } from '../../src/agents/simulator/agent-simulator.js'

const json = { 'content-type': 'application/json' }
const AGENT_FIELDS = ['agent_id', 'address', 'scaling_group', 'status', 'registered_at', 'last_reached_at', 'unreachable_since']

interface Kernel { kernel_id: string, status: string, status_info: string | null, version: number, agent_id: string | null }

t.test('agents v2: status, list, kernels by agent, reconciliation, decommissioning', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app, databaseUrl } = await testApp(t, 'own')
  const sql = new pg.Client({ connectionString: databaseUrl })
  await sql.connect()
  t.teardown(() => sql.end())

  const call = async (method: string, url: string, payload?: unknown) =>
    app.inject({ method: method as 'GET', url, ...(payload === undefined ? {} : { payload: payload as object }) })
  const register = async (agentId: string, scalingGroup: string, address = 'http://127.0.0.1:9') => {
    const response = await call('PUT', `/v1/agents/${agentId}`, { address, scaling_group: scalingGroup })
    if (response.statusCode !== 200) throw new Error(`registering ${agentId}: ${response.body}`)
    return response.json()
  }
  const putKernel = async (scalingGroup: string, agentId: string | null, status: string, kernelId: string = randomUUID()) => {
    const response = await call('PUT', `/v1/kernels/${kernelId}`, { session_id: randomUUID(), scaling_group: scalingGroup, agent_id: agentId, status })
    if (response.statusCode !== 200) throw new Error(`putting kernel ${kernelId}: ${response.body}`)
    return kernelId
  }
  const agent = async (agentId: string) => (await call('GET', `/v1/agents/${agentId}`)).json()
  const kernelsOf = async (query: string): Promise<Kernel[]> => (await call('GET', `/v1/kernels?limit=1000&${query}`)).json().items
  const sweepsOf = async (scalingGroup: string) => (await call('GET', `/v1/sweeps?scaling_group=${scalingGroup}`)).json().items

  await t.test('the Agent JSON, and its status as the sweeps and the operator move it', async (t) => {
    const registered = await register('s1', 'status-group')
    t.same(Object.keys(registered), AGENT_FIELDS, 'the fields of contract §3, in order')
    t.match(registered, { agent_id: 's1', scaling_group: 'status-group', status: 'ALIVE', last_reached_at: null, unreachable_since: null })
    t.same(await agent('s1'), registered)

    await sql.query("UPDATE agents SET last_reached_at = now() - interval '2 minutes', unreachable_since = now() - interval '1 minute' WHERE id = 's1'")
    const unreachable = await agent('s1')
    t.equal(unreachable.status, 'UNREACHABLE')
    t.ok(Date.parse(unreachable.unreachable_since) > Date.parse(unreachable.last_reached_at), 'both times are on the wire')

    await sql.query("UPDATE agents SET unreachable_since = now() - interval '601 seconds' WHERE id = 's1'")
    t.equal((await agent('s1')).status, 'LOST', 'unreachable for longer than AGENT_LOST_AFTER_SEC (600)')

    await sql.query("UPDATE agents SET decommissioned_at = now() WHERE id = 's1'")
    t.equal((await agent('s1')).status, 'DECOMMISSIONED')

    const again = await register('s1', 'status-group', 'http://127.0.0.1:10')
    t.match(again, { status: 'ALIVE', unreachable_since: null, address: 'http://127.0.0.1:10' }, 'registering again clears it all')
    t.equal(again.last_reached_at, unreachable.last_reached_at, 'when it was last reached is kept')
  })

  await t.test('real sweeps record reachability: a closed port makes an agent UNREACHABLE, an answer ALIVE again', async (t) => {
    const port = await freePort()
    await register('s2', 'reach-group', `http://127.0.0.1:${port}`)
    const kernelId = await putKernel('reach-group', 's2', 'RUNNING') // no heartbeat: a suspect

    const dryRun = await call('POST', '/v1/scaling-groups/reach-group/sweeps', { dry_run: true })
    t.match(dryRun.json(), { outcome: 'dry_run', skipped: [{ kernel_id: kernelId, cause: 'agent_error' }] })
    t.equal((await agent('s2')).status, 'ALIVE', 'a dry run records nothing')

    const refused = await call('POST', '/v1/scaling-groups/reach-group/sweeps')
    t.match(refused.json(), { outcome: 'completed', terminated: [], skipped: [{ kernel_id: kernelId, cause: 'agent_error' }] })
    const unreachable = await agent('s2')
    t.match(unreachable, { status: 'UNREACHABLE', last_reached_at: null })
    t.ok(Date.parse(unreachable.unreachable_since) > 0)

    const simulator = await AgentSimulator.start({ agentId: 's2', port })
    t.teardown(() => simulator.close())
    simulator.setKernel(kernelId, 'running')
    const reached = await call('POST', '/v1/scaling-groups/reach-group/sweeps')
    t.match(reached.json(), { outcome: 'completed', terminated: [], skipped: [] })
    const alive = await agent('s2')
    t.match(alive, { status: 'ALIVE', unreachable_since: null })
    t.ok(Date.parse(alive.last_reached_at) >= Date.parse(unreachable.unreachable_since))
  })

  await t.test('GET /v1/agents: filters by scaling group and status, pages with a cursor', async (t) => {
    for (const id of ['l1', 'l2', 'l3', 'l4', 'l5']) await register(id, 'list-a')
    await register('l6', 'list-b')
    await sql.query("UPDATE agents SET unreachable_since = now() - interval '1 hour' WHERE id IN ('l2', 'l6')")
    await sql.query("UPDATE agents SET unreachable_since = now() WHERE id = 'l3'")
    await sql.query("UPDATE agents SET decommissioned_at = now() WHERE id = 'l4'")
    const ids = async (query: string) => {
      const response = await call('GET', `/v1/agents?${query}`)
      t.equal(response.statusCode, 200, query)
      return response.json().items.map((a: { agent_id: string }) => a.agent_id)
    }

    t.same(await ids('scaling_group=list-a'), ['l1', 'l2', 'l3', 'l4', 'l5'], 'in id order')
    t.same(await ids('scaling_group=list-b'), ['l6'])
    t.same(await ids('scaling_group=list-a&status=ALIVE'), ['l1', 'l5'])
    t.same(await ids('scaling_group=list-a&status=UNREACHABLE'), ['l3'])
    t.same(await ids('scaling_group=list-a&status=DECOMMISSIONED'), ['l4'])
    t.same((await ids('status=LOST')).filter((id: string) => id.startsWith('l')), ['l2', 'l6'], 'across groups')
    const every = (await call('GET', '/v1/agents?scaling_group=list-a')).json()
    t.equal(every.next_cursor, null, 'the last page says so')
    t.match(every.items[1], { agent_id: 'l2', status: 'LOST' })
    t.same(Object.keys(every.items[0]), AGENT_FIELDS)

    const seen: string[] = []
    let url = '/v1/agents?scaling_group=list-a&limit=2'
    let pages = 0
    for (;;) {
      const page = (await call('GET', url)).json()
      pages++
      seen.push(...page.items.map((a: { agent_id: string }) => a.agent_id))
      if (page.next_cursor === null) break
      url = `/v1/agents?scaling_group=list-a&limit=2&cursor=${encodeURIComponent(page.next_cursor)}`
    }
    t.same(seen, ['l1', 'l2', 'l3', 'l4', 'l5'])
    t.equal(pages, 3)

    const bad: Array<[string, RegExp]> = [
      ['cursor=bm9wZQ%2F', /cursor/],
      [`cursor=${Buffer.from('../etc').toString('base64url')}`, /cursor/],
      ['status=ZOMBIE', /status/],
      ['limit=0', /limit/],
      ['limit=1001', /limit/],
      ['scaling_group=no%20spaces', /scaling_group/],
      ['colour=red', /colour is not allowed/],
    ]
    for (const [query, detail] of bad) {
      const response = await call('GET', `/v1/agents?${query}`)
      t.equal(response.statusCode, 400, query)
      t.match(response.json(), { type: 'validation-error', status: 400, detail }, query)
    }
  })

  await t.test('GET /v1/kernels?agent_id= lists the kernels of one agent', async (t) => {
    const mine = [await putKernel('filter-group', 'f1', 'RUNNING'), await putKernel('filter-group', 'f1', 'TERMINATED'), await putKernel('other-group', 'f1', 'PENDING')]
    await putKernel('filter-group', 'f2', 'RUNNING')
    await putKernel('filter-group', null, 'RUNNING')
    const ids = async (query: string) => (await kernelsOf(query)).map((k) => k.kernel_id)

    t.same(await ids('agent_id=f1'), [...mine].sort(), 'every group and status')
    t.same(await ids('agent_id=f1&scaling_group=filter-group&status=RUNNING'), [mine[0]], 'with the other filters')
    t.same(await ids('agent_id=nobody'), [])
    const page = (await call('GET', '/v1/kernels?agent_id=f1&limit=2')).json()
    t.equal(page.items.length, 2)
    t.same((await call('GET', `/v1/kernels?agent_id=f1&limit=2&cursor=${encodeURIComponent(page.next_cursor)}`)).json().items.map((k: Kernel) => k.kernel_id),
      [[...mine].sort()[2]], 'paged with the filter')
    const bad = await call('GET', '/v1/kernels?agent_id=../etc')
    t.equal(bad.statusCode, 400)
    t.match(bad.json(), { type: 'validation-error', detail: /agent_id/ })
  })

  await t.test('POST /v1/agents/{id}/reconcile: orphans and missing, exactly, and nothing changed', async (t) => {
    await register('r1', 'reconcile-group')
    await register('r2', 'reconcile-group')
    const running = await putKernel('reconcile-group', 'r1', 'RUNNING')
    const pending = await putKernel('reconcile-group', 'r1', 'PENDING') // not listed: missing
    const terminating = await putKernel('reconcile-group', 'r1', 'TERMINATING') // not listed: missing
    const elsewhere = await putKernel('another-group', 'r1', 'RUNNING') // not listed, another group: still missing
    await putKernel('reconcile-group', 'r1', 'CANCELLED') // final, not listed: not missing
    const terminated = await putKernel('reconcile-group', 'r1', 'TERMINATED') // listed: orphan (final)
    const errored = await putKernel('reconcile-group', 'r1', 'ERROR') // listed: orphan (final)
    const others = await putKernel('reconcile-group', 'r2', 'RUNNING') // listed: orphan (another agent's)
    const nobodys = await putKernel('reconcile-group', null, 'RUNNING') // listed: orphan (not this agent's)
    const unknown = randomUUID() // listed: orphan (unknown)
    const before = { kernels: await kernelsOf(''), agents: (await call('GET', '/v1/agents?limit=1000')).json().items }

    const listed = [unknown, running.toUpperCase(), terminated, others, running, errored, nobodys, unknown]
    const response = await call('POST', '/v1/agents/r1/reconcile', { kernels: listed })
    t.equal(response.statusCode, 200)
    t.same(response.json(), {
      orphans: [unknown, terminated, others, errored, nobodys],
      missing: [pending, terminating, elsewhere].sort(),
    }, 'orphans once each in the order listed, lower-cased; missing in id order')

    t.same(await kernelsOf(''), before.kernels, 'no kernel changed')
    t.same((await call('GET', '/v1/agents?limit=1000')).json().items, before.agents, 'no agent changed')
    t.same(await sweepsOf('reconcile-group'), [], 'no sweep')
    t.same((await call('GET', `/v1/kernels/${terminated}/history`)).json().items, [], 'no history')

    t.same((await call('POST', '/v1/agents/r1/reconcile', { kernels: [] })).json(), { orphans: [], missing: [running, pending, terminating, elsewhere].sort() },
      'an agent that runs nothing misses all its non-final kernels')
    t.same((await call('POST', '/v1/agents/r2/reconcile', { kernels: [others] })).json(), { orphans: [], missing: [] })

    // Like the presence route, reconciliation keeps the plain JSON parser: the last value counts.
    const repeated = await app.inject({ method: 'POST', url: '/v1/agents/r2/reconcile', headers: json, payload: `{"kernels": [], "kernels": ["${others}"]}` })
    t.same(repeated.json(), { orphans: [], missing: [] })
  })

  await t.test('reconcile: unknown agents are 404, bad bodies 400, and it takes up to 10,000 ids', async (t) => {
    const unknown = await call('POST', '/v1/agents/nobody/reconcile', { kernels: [] })
    t.equal(unknown.statusCode, 404)
    t.match(unknown.json(), { type: 'not-found', detail: /nobody/ })

    await register('r3', 'reconcile-limits')
    const cases: Array<[string, unknown, RegExp]> = [
      ['no kernels field', {}, /kernels/],
      ['unknown field', { kernels: [], colour: 'red' }, /colour is not allowed/],
      ['not an array', { kernels: { [randomUUID()]: true } }, /kernels/],
      ['a malformed id', { kernels: ['k1'] }, /kernels/],
      ['a urn:uuid id', { kernels: [`urn:uuid:${randomUUID()}`] }, /kernels/],
      ['braces', { kernels: [`{${randomUUID()}}`] }, /kernels/],
      ['10,001 ids', { kernels: Array.from({ length: 10_001 }, () => randomUUID()) }, /more than 10000 items/],
    ]
    for (const [name, payload, detail] of cases) {
      const response = await call('POST', '/v1/agents/r3/reconcile', payload)
      t.equal(response.statusCode, 400, name)
      t.match(response.json(), { type: 'validation-error', detail }, name)
    }
    t.equal((await call('POST', '/v1/agents/bad%20name/reconcile', { kernels: [] })).statusCode, 400, 'a malformed agent id')

    const many = Array.from({ length: 10_000 }, () => randomUUID())
    const big = await call('POST', '/v1/agents/r3/reconcile', { kernels: many })
    t.equal(big.statusCode, 200, 'a body over 1 MiB is within the 8 MiB limit')
    t.equal(big.json().orphans.length, 10_000)
  })

  await t.test('POST /v1/agents/{id}/decommission: a dry run changes nothing, a real one terminates every non-final kernel', async (t) => {
    await register('d1', 'decom-group')
    await register('d2', 'decom-group')
    const statuses = ['RUNNING', 'PENDING', 'PREPARING', 'TERMINATING', 'SUSPENDED']
    const live = new Map<string, string>()
    for (const status of statuses) live.set(await putKernel('decom-group', 'd1', status), status)
    const elsewhere = await putKernel('other-decom-group', 'd1', 'RUNNING') // d1's, but in another group
    const finals = [await putKernel('decom-group', 'd1', 'TERMINATED'), await putKernel('decom-group', 'd1', 'CANCELLED')]
    const bystanders = [await putKernel('decom-group', 'd2', 'RUNNING'), await putKernel('decom-group', null, 'RUNNING')]
    // The guard needs ≥ 10 kernels to trip; enough of d2's keep d1's 5 under half of the group.
    for (let i = 0; i < 10; i++) bystanders.push(await putKernel('decom-group', 'd2', 'RUNNING'))
    const before = await kernelsOf('')

    const dryRun = await call('POST', '/v1/agents/d1/decommission', { dry_run: true })
    t.equal(dryRun.statusCode, 201)
    t.match(dryRun.json(), { scaling_group: 'decom-group', handler: 'decommission-agent', dry_run: true, outcome: 'dry_run', terminated: [] })
    t.equal(dryRun.headers['location'], `/v1/sweeps/${dryRun.json().sweep_id}`)
    t.same(dryRun.json().result.failures.map((f: { kernel_id: string }) => f.kernel_id).sort(), [...live.keys()].sort(), 'it reports what it would terminate')
    t.same(await kernelsOf(''), before, 'a dry run changes no kernel')
    t.equal((await agent('d1')).status, 'ALIVE', 'nor the agent')

    const real = await call('POST', '/v1/agents/d1/decommission')
    t.equal(real.statusCode, 201, 'no body: for real')
    const sweep = real.json()
    t.match(sweep, { scaling_group: 'decom-group', handler: 'decommission-agent', dry_run: false, forced: false, outcome: 'completed', error: null })
    t.equal(real.headers['location'], `/v1/sweeps/${sweep.sweep_id}`)
    t.same([...sweep.terminated].sort(), [...live.keys()].sort(), 'every non-final kernel of the agent in its group')
    t.same(sweep.result.failures.map((f: { kernel_id: string, from_status: string, reason: string }) => [f.kernel_id, f.from_status, f.reason]).sort(),
      [...live].map(([id, status]) => [id, status, 'AGENT_DECOMMISSIONED']).sort(), 'each with its own from_status')
    t.same(sweep.skipped, [])
    t.same((await call('GET', `/v1/sweeps/${sweep.sweep_id}`)).json(), sweep, 'recorded as answered')

    for (const [kernelId, status] of live) {
      const kernel = (await call('GET', `/v1/kernels/${kernelId}`)).json()
      t.match(kernel, { status: 'TERMINATED', status_info: 'AGENT_DECOMMISSIONED', version: 2 }, `${status} → TERMINATED`)
      t.ok(Date.parse(kernel.terminated_at) > 0)
      t.match((await call('GET', `/v1/kernels/${kernelId}/history`)).json().items, [{
        from_status: status, to_status: 'TERMINATED', reason: 'AGENT_DECOMMISSIONED', sweep_id: sweep.sweep_id,
      }])
    }
    const untouched = new Set([elsewhere, ...finals, ...bystanders])
    t.same((await kernelsOf('')).filter((k) => untouched.has(k.kernel_id)), before.filter((k) => untouched.has(k.kernel_id)),
      'final kernels, other agents\' and other groups\' are left alone')
    t.equal((await agent('d1')).status, 'DECOMMISSIONED')
    t.equal((await agent('d2')).status, 'ALIVE')

    // Never asked again: a kernel put on it afterwards is skipped, not checked.
    const late = await putKernel('decom-group', 'd1', 'RUNNING')
    const after = (await call('POST', '/v1/scaling-groups/decom-group/sweeps', { dry_run: true })).json()
    t.match(after.skipped.find((s: { kernel_id: string }) => s.kernel_id === late), { cause: 'agent_decommissioned' })

    t.equal((await register('d1', 'decom-group')).status, 'ALIVE', 'until registered again')
  })

  await t.test('decommission: the mass-termination guard, and force', async (t) => {
    await register('g1', 'guard-group')
    const kernels = []
    for (let i = 0; i < 10; i++) kernels.push(await putKernel('guard-group', 'g1', 'RUNNING'))
    const tripped = await call('POST', '/v1/agents/g1/decommission', {})
    t.equal(tripped.statusCode, 201)
    t.match(tripped.json(), { outcome: 'guard_tripped', terminated: [] })
    t.equal((await agent('g1')).status, 'ALIVE', 'not decommissioned unless completed')
    t.same((await kernelsOf('scaling_group=guard-group&status=RUNNING')).length, 10)

    const forced = await call('POST', '/v1/agents/g1/decommission', { force: true })
    t.match(forced.json(), { outcome: 'completed', forced: true })
    t.equal(forced.json().terminated.length, 10)
    t.equal((await agent('g1')).status, 'DECOMMISSIONED')
  })

  await t.test('decommission: 404 for an unknown agent, 400 for a bad or ambiguous order, and no sweep runs', async (t) => {
    await register('b1', 'bad-decom-group')
    const kernelId = await putKernel('bad-decom-group', 'b1', 'RUNNING')

    const unknown = await call('POST', '/v1/agents/nobody/decommission', { dry_run: true })
    t.equal(unknown.statusCode, 404)
    t.match(unknown.json(), { type: 'not-found', detail: /nobody/ })

    const refused: Array<[string, string, string]> = [
      ['dry_run twice', '{"dry_run": true, "dry_run": false}', 'malformed-json'],
      ['force twice', '{"force": false, "force": true}', 'malformed-json'],
      ['not JSON', '{"dry_run": tru', 'malformed-json'],
      ['a mistyped field', '{"dryrun": true}', 'validation-error'],
      ['a string for a boolean', '{"dry_run": "true"}', 'validation-error'],
      ['null', 'null', 'validation-error'],
    ]
    for (const [name, payload, type] of refused) {
      const response = await app.inject({ method: 'POST', url: '/v1/agents/b1/decommission', headers: json, payload })
      t.equal(response.statusCode, 400, name)
      t.match(response.json(), { type, status: 400 }, name)
    }
    const repeated = await app.inject({ method: 'POST', url: '/v1/agents/b1/decommission', headers: json, payload: '{"dry_run": true, "dry_run": false}' })
    t.match(repeated.json().detail, 'the key "dry_run" appears more than once')
    t.same(await sweepsOf('bad-decom-group'), [], 'no sweep was recorded')
    t.equal((await call('GET', `/v1/kernels/${kernelId}`)).json().status, 'RUNNING')
    t.equal((await agent('b1')).status, 'ALIVE')
    t.equal((await call('POST', '/v1/agents/bad%20name/decommission')).statusCode, 400, 'a malformed agent id')
  })
})

t.test('the reconcile route takes the agent token; decommissioning and the list do not', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app } = await testApp(t, 'own', { API_TOKEN: 'api-token', AGENT_TOKEN: 'agent-token' })
  const as = (token: string | null, method: string, url: string, payload?: unknown) => app.inject({
    method: method as 'GET',
    url,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  })
  t.equal((await as('api-token', 'PUT', '/v1/agents/a1', { address: 'http://127.0.0.1:9', scaling_group: 'auth' })).statusCode, 200)

  t.equal((await as('agent-token', 'POST', '/v1/agents/a1/reconcile', { kernels: [] })).statusCode, 200, 'reconcile: the agent token')
  t.equal((await as('api-token', 'POST', '/v1/agents/a1/reconcile', { kernels: [] })).statusCode, 200, 'reconcile: the API token')
  t.equal((await as(null, 'POST', '/v1/agents/a1/reconcile', { kernels: [] })).statusCode, 401, 'reconcile: no token')
  t.equal((await as('agent-token', 'POST', '/v1/agents/a1/decommission', { dry_run: true })).statusCode, 401, 'decommission: not the agent token')
  t.equal((await as(null, 'POST', '/v1/agents/a1/decommission', { dry_run: true })).statusCode, 401)
  t.equal((await as('api-token', 'POST', '/v1/agents/a1/decommission', { dry_run: true })).statusCode, 201)
  t.equal((await as('agent-token', 'GET', '/v1/agents')).statusCode, 401, 'list: not the agent token')
  t.equal((await as(null, 'GET', '/v1/agents')).statusCode, 401)
  const listed = await as('api-token', 'GET', '/v1/agents')
  t.equal(listed.statusCode, 200)
  t.match(listed.json(), { items: [{ agent_id: 'a1', status: 'ALIVE' }], next_cursor: null })
})

t.test('GET /metrics: agents by scaling group and status, as the database has them at the scrape', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  const { app, databaseUrl } = await testApp(t, 'own')
  const sql = new pg.Client({ connectionString: databaseUrl })
  await sql.connect()
  t.teardown(() => sql.end())
  for (const id of ['m1', 'm2', 'm3']) await app.inject({ method: 'PUT', url: `/v1/agents/${id}`, payload: { address: 'http://127.0.0.1:9', scaling_group: 'metrics-group' } })
  await sql.query("UPDATE agents SET unreachable_since = now() - interval '1 hour' WHERE id = 'm2'")
  await sql.query("UPDATE agents SET decommissioned_at = now() WHERE id = 'm3'")
  const scrape = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body.split('\n').filter((line) => line.startsWith('kernel_sweeper_agents{')).sort()
  t.same(await scrape(), [
    'kernel_sweeper_agents{scaling_group="metrics-group",status="ALIVE"} 1',
    'kernel_sweeper_agents{scaling_group="metrics-group",status="DECOMMISSIONED"} 1',
    'kernel_sweeper_agents{scaling_group="metrics-group",status="LOST"} 1',
    'kernel_sweeper_agents{scaling_group="metrics-group",status="UNREACHABLE"} 0',
  ])
  await app.inject({ method: 'PUT', url: '/v1/agents/m2', payload: { address: 'http://127.0.0.1:9', scaling_group: 'metrics-group' } })
  t.match(await scrape(), ['kernel_sweeper_agents{scaling_group="metrics-group",status="ALIVE"} 2'], 'the next scrape sees the change')
})
