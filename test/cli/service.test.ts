import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { CloudEvent, Kernel, Sweep } from '../../clients/typescript/client.js'
import { AgentSimulator } from '../../src/agents/simulator/agent-simulator.js'
import { secondInstance, testApp, type TestApp } from '../helpers/app.js'
import { skipWithoutPostgres } from '../helpers/postgres.js'
import { OwnRedisServer, skipWithoutRedis } from '../helpers/redis.js'
import { fieldsOf, jsonLinesOf, runCli, startCli, tableOf } from './fixtures/cli-process.js'

// Every command against a real service on a real socket, the CLI in a process of its own. One
// service (with API_TOKEN, so every call shows the token is sent) holds groups set up for each
// outcome; a second instance on the same database, with its presence store gone, answers 503.

const API_TOKEN = 'cli-test-token'

async function listen (app: TestApp['app']): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

t.test('kernel-sweeper against a running service', { skip: (await skipWithoutPostgres()) || (await skipWithoutRedis()) }, async (t) => {
  // The hung kernel of group `busy` holds that group's lock for the RPC timeout.
  const service = await testApp(t, 'own', { API_TOKEN, AGENT_RPC_TIMEOUT_MS: '3000' })
  const { app } = service
  const env = { KERNEL_SWEEPER_URL: await listen(app), KERNEL_SWEEPER_TOKEN: API_TOKEN }
  const cli = (...args: string[]) => runCli(args, env)
  const api = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) => {
    const response = await app.inject({ method, url, headers: { authorization: `Bearer ${API_TOKEN}` }, ...(payload === undefined ? {} : { payload }) })
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`)
    return response.json()
  }
  const a1 = await AgentSimulator.start({ agentId: 'a1' })
  const b1 = await AgentSimulator.start({ agentId: 'b1' })
  t.teardown(() => Promise.all([a1.close(), b1.close()]))
  const putKernels = (group: string, agentId: string, ids: string[], status = 'RUNNING') => api('PUT', '/v1/kernels', {
    kernels: ids.map((id) => ({ kernel_id: id, session_id: randomUUID(), scaling_group: group, agent_id: agentId, status })),
  })

  // default: one kernel alive, one dead. mass: ten dead, which trips the guard (>= 10 and > 50 %).
  // busy: one kernel whose agent hangs. decom: agent d1's kernel. many: more kernels than a page.
  const alive = randomUUID()
  const dead = randomUUID()
  const mass = Array.from({ length: 10 }, () => randomUUID())
  const hung = randomUUID()
  const decommissioned = randomUUID()
  a1.setKernel(alive, 'running')
  a1.kill(dead)
  for (const id of mass) a1.kill(id)
  b1.hang(hung)
  await api('PUT', '/v1/agents/a1', { address: a1.url, scaling_group: 'default' })
  await api('PUT', '/v1/agents/b1', { address: b1.url, scaling_group: 'busy' })
  await api('PUT', '/v1/agents/d1', { address: 'http://127.0.0.1:9', scaling_group: 'decom' })
  await putKernels('default', 'a1', [alive, dead])
  await putKernels('mass', 'a1', mass)
  await putKernels('busy', 'b1', [hung])
  await putKernels('decom', 'd1', [decommissioned])
  await putKernels('many', 'a1', Array.from({ length: 1001 }, () => randomUUID()), 'PENDING')

  await t.test('sweep: a dry run and a completed sweep exit 0; a tripped guard exits 3, and --force sweeps anyway', async (t) => {
    const [dryRun, tripped] = await Promise.all([cli('sweep', 'default', '--dry-run', '--json'), cli('sweep', 'mass')])

    t.match(dryRun, { code: 0, stderr: '' })
    const [dry] = jsonLinesOf(dryRun.stdout) as Sweep[]
    t.match(dry, { scaling_group: 'default', dry_run: true, outcome: 'dry_run', terminated: [], result: { failures: [{ kernel_id: dead, reason: 'STALE_KERNEL' }] } })
    t.equal(jsonLinesOf(dryRun.stdout).length, 1, 'one line of JSON')

    t.match(tripped, { code: 3, stderr: '' }, 'guard tripped: exit 3')
    const { fields, rest } = fieldsOf(tripped.stdout)
    t.match(fields, { scaling_group: 'mass', handler: 'sweep-stale-kernels', outcome: 'guard_tripped', dry_run: 'false', forced: 'false', error: '-' })
    t.equal(fields['kernels'], '10 (successes 0, failures 10, terminated 0, skipped 0)')
    const verdicts = tableOf(rest)
    t.same(verdicts.map((row) => row['KERNEL_ID']).sort(), [...mass].sort(), 'every dead kernel listed')
    t.ok(verdicts.every((row) => row['VERDICT'] === 'dead' && row['FROM_STATUS'] === 'RUNNING' && row['DETAIL'] === 'STALE_KERNEL'), 'dead, not terminated')
    t.match(rest, /^KERNEL_ID {2,}FROM_STATUS {2,}VERDICT {2,}DETAIL\n/)

    const [completed, forced] = await Promise.all([cli('sweep', 'default'), cli('sweep', 'mass', '--force', '--json')])
    t.match(completed, { code: 0, stderr: '' })
    const done = fieldsOf(completed.stdout)
    t.match(done.fields, { scaling_group: 'default', outcome: 'completed', kernels: '2 (successes 1, failures 1, terminated 1, skipped 0)' })
    t.match(done.fields['sweep_id'], /^[0-9a-f-]{36}$/)
    t.same(tableOf(done.rest), [{ KERNEL_ID: dead, FROM_STATUS: 'RUNNING', VERDICT: 'terminated', DETAIL: 'STALE_KERNEL' }], 'only the dead kernel has a line')
    t.match(forced, { code: 0 })
    t.match(jsonLinesOf(forced.stdout), [{ outcome: 'completed', forced: true, counts: { terminated: 10 } }])
  })

  await t.test('sweeps lists them newest first; sweeps show reads one back as it was answered', async (t) => {
    const [json, limited, all] = await Promise.all([
      cli('sweeps', '--group', 'default', '--json'), cli('sweeps', '--group', 'default', '--limit', '1'), cli('sweeps'),
    ])
    const sweeps = jsonLinesOf(json.stdout) as Sweep[]
    t.match(sweeps, [{ outcome: 'completed', scaling_group: 'default' }, { outcome: 'dry_run', scaling_group: 'default' }])
    t.equal(sweeps.length, 2)
    t.match(limited, { code: 0, stderr: '' })
    t.match(limited.stdout, /^SWEEP_ID {2,}GROUP {2,}HANDLER {2,}OUTCOME {2,}DRY_RUN {2,}FORCED {2,}STARTED_AT {2,}KERNELS {2,}FAILURES {2,}TERMINATED {2,}SKIPPED\n/)
    t.same(tableOf(limited.stdout), [{
      SWEEP_ID: sweeps[0]!.sweep_id,
      GROUP: 'default',
      HANDLER: 'sweep-stale-kernels',
      OUTCOME: 'completed',
      DRY_RUN: 'false',
      FORCED: 'false',
      STARTED_AT: sweeps[0]!.started_at,
      KERNELS: '2',
      FAILURES: '1',
      TERMINATED: '1',
      SKIPPED: '0',
    }], '--limit 1: the newest')
    t.same(tableOf(all.stdout).map((row) => row['OUTCOME']).sort(), ['completed', 'completed', 'dry_run', 'guard_tripped'])

    const [shownJson, shown] = await Promise.all([cli('sweeps', 'show', sweeps[1]!.sweep_id, '--json'), cli('sweeps', 'show', sweeps[1]!.sweep_id)])
    t.same(jsonLinesOf(shownJson.stdout), [sweeps[1]])
    t.match(shown, { code: 0, stderr: '' })
    t.match(fieldsOf(shown.stdout).fields, { sweep_id: sweeps[1]!.sweep_id, outcome: 'dry_run', dry_run: 'true', started_at: sweeps[1]!.started_at })
    t.same(tableOf(fieldsOf(shown.stdout).rest), [{ KERNEL_ID: dead, FROM_STATUS: 'RUNNING', VERDICT: 'dead', DETAIL: 'STALE_KERNEL' }])
  })

  await t.test('kernels lists every page, filtered; kernel shows one with its history', async (t) => {
    const [json, terminated, ofAgent, many, one, oneJson] = await Promise.all([
      cli('kernels', '--group', 'default', '--json'),
      cli('kernels', '--group', 'default', '--status', 'TERMINATED'),
      cli('kernels', '--agent', 'd1', '--json'),
      cli('kernels', '--group', 'many', '--json'),
      cli('kernel', dead),
      cli('kernel', dead, '--json'),
    ])
    const kernels = jsonLinesOf(json.stdout) as Kernel[]
    t.same(kernels.map((kernel) => [kernel.kernel_id, kernel.status]).sort(), [[alive, 'RUNNING'], [dead, 'TERMINATED']].sort())
    t.match(terminated.stdout, /^KERNEL_ID {2,}GROUP {2,}AGENT {2,}STATUS {2,}STATUS_INFO {2,}STATUS_CHANGED_AT {2,}VERSION\n/)
    const deadKernel = kernels.find((kernel) => kernel.kernel_id === dead)!
    t.same(tableOf(terminated.stdout), [{
      KERNEL_ID: dead, GROUP: 'default', AGENT: 'a1', STATUS: 'TERMINATED', STATUS_INFO: 'STALE_KERNEL', STATUS_CHANGED_AT: deadKernel.status_changed_at, VERSION: '2',
    }])
    t.match(jsonLinesOf(ofAgent.stdout), [{ kernel_id: decommissioned, agent_id: 'd1' }])
    t.equal(jsonLinesOf(many.stdout).length, 1001, 'two pages of the list')

    t.match(one, { code: 0, stderr: '' })
    const { fields, rest } = fieldsOf(one.stdout)
    t.match(fields, { kernel_id: dead, agent_id: 'a1', status: 'TERMINATED', status_info: 'STALE_KERNEL', terminated_at: deadKernel.terminated_at!, version: '2' })
    const [completedSweep] = jsonLinesOf((await cli('sweeps', '--group', 'default', '--limit', '1', '--json')).stdout) as Sweep[]
    t.match(rest, /^CHANGED_AT {2,}FROM_STATUS {2,}TO_STATUS {2,}REASON {2,}SWEEP_ID\n/)
    t.match(tableOf(rest), [{ FROM_STATUS: 'RUNNING', TO_STATUS: 'TERMINATED', REASON: 'STALE_KERNEL', SWEEP_ID: completedSweep!.sweep_id }])
    t.match(jsonLinesOf(oneJson.stdout), [{ ...deadKernel, history: [{ from_status: 'RUNNING', to_status: 'TERMINATED', reason: 'STALE_KERNEL', sweep_id: completedSweep!.sweep_id }] }])
  })

  await t.test('agents decommission: a dry run, then for real (exit 0); agents lists and filters them', async (t) => {
    const dryRun = await cli('agents', 'decommission', 'd1', '--dry-run', '--json')
    t.match(dryRun, { code: 0, stderr: '' })
    t.match(jsonLinesOf(dryRun.stdout), [{ handler: 'decommission-agent', scaling_group: 'decom', outcome: 'dry_run', terminated: [] }])
    const real = await cli('agents', 'decommission', 'd1')
    t.match(real, { code: 0, stderr: '' })
    t.match(fieldsOf(real.stdout).fields, { handler: 'decommission-agent', outcome: 'completed' })
    t.same(tableOf(fieldsOf(real.stdout).rest), [{ KERNEL_ID: decommissioned, FROM_STATUS: 'RUNNING', VERDICT: 'terminated', DETAIL: 'AGENT_DECOMMISSIONED' }])

    const [all, gone] = await Promise.all([cli('agents', '--json'), cli('agents', '--status', 'DECOMMISSIONED')])
    t.same((jsonLinesOf(all.stdout) as Array<{ agent_id: string }>).map((agent) => agent.agent_id), ['a1', 'b1', 'd1'])
    t.match(gone.stdout, /^AGENT_ID {2,}GROUP {2,}STATUS {2,}ADDRESS {2,}REGISTERED_AT {2,}LAST_REACHED_AT {2,}UNREACHABLE_SINCE\n/)
    t.match(tableOf(gone.stdout), [{ AGENT_ID: 'd1', GROUP: 'decom', STATUS: 'DECOMMISSIONED', ADDRESS: 'http://127.0.0.1:9', LAST_REACHED_AT: '-', UNREACHABLE_SINCE: '-' }])
    t.equal(tableOf(gone.stdout).length, 1)
  })

  await t.test('events prints the log, filtered by type and cursor', async (t) => {
    const [json, decommissions] = await Promise.all([cli('events', '--json'), cli('events', '--types', 'agent.decommissioned')])
    const events = jsonLinesOf(json.stdout) as CloudEvent[]
    t.match(events.find((event) => event.type === 'kernel.terminated' && event.subject === dead), { data: { reason: 'STALE_KERNEL', scaling_group: 'default' } })
    t.equal(events.filter((event) => event.type === 'sweep.finished').length, 6, 'each sweep')
    t.match(decommissions, { code: 0, stderr: '' })
    t.match(decommissions.stdout, /^ID {2,}TIME {2,}TYPE {2,}SUBJECT {2,}DATA\n/)
    const decommission = events.find((event) => event.type === 'agent.decommissioned')!
    t.same(tableOf(decommissions.stdout), [{
      ID: decommission.id, TIME: decommission.time, TYPE: 'agent.decommissioned', SUBJECT: 'd1', DATA: `scaling_group=decom sweep_id=${decommission.data.sweep_id}`,
    }], 'DATA without the subject')

    const after = await cli('events', '--after', events[2]!.id, '--types', 'sweep.finished,kernel.terminated', '--json')
    t.same(jsonLinesOf(after.stdout), events.slice(3).filter((event) => event.type !== 'agent.decommissioned'))
  })

  await t.test('events --follow prints events as they commit; Ctrl-C or SIGTERM ends it with exit 0', async (t) => {
    const { items } = await api('GET', '/v1/events?limit=1000')
    const last = items.at(-1).id
    const following = startCli(t, ['events', '--follow', '--json', '--after', last], env)
    const table = startCli(t, ['events', '--follow', '--types', 'sweep.finished'], env)
    await sleep(500)
    const sweep = await api('POST', '/v1/scaling-groups/default/sweeps', { dry_run: true })
    const [line] = await following.lines(1)
    t.match(JSON.parse(line!), { type: 'sweep.finished', subject: sweep.sweep_id, data: { outcome: 'dry_run' } })
    following.child.kill('SIGINT')
    t.same(await following.ended, { code: 0, stdout: `${line!}\n`, stderr: '' }, 'Ctrl-C: exit 0, nothing more')

    const rows = await table.lines(8)
    t.match(rows[0], /^ID {2,}TIME {2,}TYPE {2,}SUBJECT {2,}DATA$/)
    t.match(rows[7], new RegExp(`^\\d+ +\\S+ +sweep\\.finished +${sweep.sweep_id} +scaling_group=default `), 'the old ones, then the new one')
    table.child.kill('SIGTERM')
    t.match(await table.ended, { code: 0, stderr: '' }, 'SIGTERM: exit 0')
  })

  await t.test('a group busy with another sweep: sweep and agents decommission exit 4 with the detail', async (t) => {
    const holding = api('POST', '/v1/scaling-groups/busy/sweeps', {})
    while (b1.checksServed === 0) await sleep(10)
    const [sweep, decommission] = await Promise.all([cli('sweep', 'busy'), cli('agents', 'decommission', 'b1', '--json')])
    t.same(sweep, { code: 4, stdout: '', stderr: 'kernel-sweeper: scaling group busy is being swept; try again later\n' })
    t.same(decommission, { code: 4, stdout: '', stderr: 'kernel-sweeper: scaling group busy is being swept; try again later\n' })
    t.match(await holding, { outcome: 'completed', skipped: [{ kernel_id: hung, cause: 'agent_timeout' }] })
  })

  await t.test('errors: 404 and 401 exit 1, a 400 is bad usage (2), each with the detail on standard error', async (t) => {
    const unknown = randomUUID()
    const [missing, noToken, wrongToken, malformed, badName, badLimit] = await Promise.all([
      cli('kernel', unknown),
      runCli(['kernels'], { KERNEL_SWEEPER_URL: env.KERNEL_SWEEPER_URL }),
      runCli(['sweep', 'default'], { ...env, KERNEL_SWEEPER_TOKEN: 'not-the-token' }),
      cli('sweeps', 'show', 'not-a-uuid'),
      cli('sweep', 'bad/name'),
      cli('sweeps', '--limit', '501'),
    ])
    t.same(missing, { code: 1, stdout: '', stderr: `kernel-sweeper: kernel ${unknown} does not exist\n` })
    t.same(noToken, { code: 1, stdout: '', stderr: 'kernel-sweeper: send Authorization: Bearer <token>\n' }, 'the token is what lets it in')
    t.match(wrongToken, { code: 1, stdout: '', stderr: /^kernel-sweeper: .+\n$/ })
    t.match(malformed, { code: 2, stdout: '', stderr: /^kernel-sweeper: .*sweep_id.*\n$/ })
    t.match(badName, { code: 2, stdout: '', stderr: /^kernel-sweeper: .*scaling_group.*\n$/ })
    t.match(badLimit, { code: 2, stdout: '', stderr: /^kernel-sweeper: .*limit.*\n$/ })
  })

  await t.test('a service whose presence store is down: exit 5 with the detail and the failed sweep\'s id', async (t) => {
    // Up while the instance starts (the start waits for its stores), then gone.
    const valkey = await OwnRedisServer.start(t)
    const down = await secondInstance(t, service, { VALKEY_URL: valkey.url })
    await valkey.stop()
    await putKernels('down', 'a1', [randomUUID()])
    const result = await runCli(['sweep', 'down'], { ...env, KERNEL_SWEEPER_URL: await listen(down.app) })
    t.match(result, { code: 5, stdout: '', stderr: /^kernel-sweeper: presence store unavailable: .+ \(recorded as sweep [0-9a-f-]{36}\)\n$/ })
    const sweepId = /recorded as sweep ([0-9a-f-]{36})/.exec(result.stderr)?.[1]
    t.match(jsonLinesOf((await cli('sweeps', 'show', sweepId!, '--json')).stdout), [{ outcome: 'failed', scaling_group: 'down' }])
  })
})
