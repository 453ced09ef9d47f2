import t from 'tap'
import { AgentMismatchError, AgentTimeoutError } from '../../src/agents/agent-errors.js'
import type { HandlerKernel, KernelInfo } from '../../src/domain/kernel-info.js'
import { HealthCheckStatus } from '../../src/domain/presence.js'
import { SkipCause } from '../../src/domain/results.js'
import type { PresenceChecker } from '../../src/presence/presence-store.js'
import { SessionTerminator } from '../../src/terminator/session-terminator.js'
import { CapturingLogger } from '../helpers/capturing-logger.js'
import { type AgentBehaviour, FakeAgentClientPool, FakePresenceStore, staleCheck, agentStatuses } from '../helpers/fake-ports.js'
import { runningKernel } from '../helpers/kernels.js'
import { KernelPages } from '../../src/domain/kernel-pages.js'

const { ALIVE, STALE, UNHEALTHY } = HealthCheckStatus

function setup (
  presence: Record<string, HealthCheckStatus>,
  agents: Record<string, AgentBehaviour>,
  agentRpcConcurrency = 32
) {
  const presenceStore = new FakePresenceStore(presence)
  const agentClientPool = new FakeAgentClientPool(agents)
  const logger = new CapturingLogger()
  const terminator = new SessionTerminator({ presenceStore, agentClientPool, agentStatuses: agentStatuses(), agentRpcConcurrency, agentRpcBatchSize: 1000, logger })
  return { presenceStore, agentClientPool, logger, terminator }
}

t.test('SC-CSK-001: Valkey returns all ALIVE - no agent asked', async (t) => {
  const [k1, k2] = [runningKernel('a1'), runningKernel('a1')]
  const { terminator, presenceStore, agentClientPool } = setup({ [k1.id]: ALIVE, [k2.id]: ALIVE }, {})

  const check = await terminator.checkStaleKernels(KernelPages.of([k1, k2]))

  t.same(check.deadKernelIds, [])
  t.same(check.skipped, [])
  t.equal(presenceStore.calls.length, 1, 'one batched presence read')
  t.same(agentClientPool.acquired, [], 'agent_client_pool.acquire not called')
})

t.test('SC-CSK-002: Valkey returns STALE, agent confirms dead', async (t) => {
  const k1 = runningKernel('a1')
  const { terminator, agentClientPool } = setup({ [k1.id]: STALE }, { [k1.id]: { running: false } })

  const check = await terminator.checkStaleKernels(KernelPages.of([k1]))

  t.same(check.deadKernelIds, [k1.id])
  t.same(agentClientPool.acquired, ['a1'])
  t.same(agentClientPool.checks, [{ agentId: 'a1', kernelId: k1.id }], 'check_running called once with k1')
})

t.test('SC-CSK-003: Valkey returns STALE, agent shows still running', async (t) => {
  const k1 = runningKernel('a1')
  const { terminator, agentClientPool, logger } = setup({ [k1.id]: STALE }, { [k1.id]: { running: true } })

  const check = await terminator.checkStaleKernels(KernelPages.of([k1]))

  t.same(check.deadKernelIds, [], 'the kernel is actually alive')
  t.same(check.skipped, [])
  t.equal(agentClientPool.checks.length, 1)
  t.same(logger.at('warn'), [], 'a live answer is not a warning')
})

t.test('SC-CSK-004: agent verification fails - kernel skipped', async (t) => {
  const [k1, k2] = [runningKernel('a1'), runningKernel('a2')]
  const { terminator, agentClientPool, logger } = setup(
    { [k1.id]: STALE, [k2.id]: STALE },
    { [k1.id]: { error: new Error('Connection refused') }, [k2.id]: { running: false } }
  )

  const check = await terminator.checkStaleKernels(KernelPages.of([k1, k2]))

  t.same(check.deadKernelIds, [k2.id], 'k1 skipped due to error, k2 confirmed dead')
  t.same(check.skipped, [{ kernelId: k1.id, cause: SkipCause.AGENT_ERROR }])
  t.same(agentClientPool.acquired.toSorted(), ['a1', 'a2'])
  const warnings = logger.at('warn')
  t.equal(warnings.length, 1, 'warning logged for k1')
  t.equal(warnings[0]?.fields['kernel_id'], k1.id)
  t.equal(warnings[0]?.fields['cause'], 'agent_error')
  t.equal(warnings[0]?.fields['err'], 'Connection refused')
  t.match(warnings[0]?.message, k1.id)
})

t.test('SC-CSK-005: kernel without agent - skipped', async (t) => {
  const k1 = runningKernel(null)
  const { terminator, agentClientPool, logger } = setup({ [k1.id]: STALE }, {})

  const check = await terminator.checkStaleKernels(KernelPages.of([k1]))

  t.same(check.deadKernelIds, [], 'cannot verify without agent')
  t.same(check.skipped, [{ kernelId: k1.id, cause: SkipCause.NO_AGENT }])
  t.same(agentClientPool.acquired, [], 'agent_client_pool.acquire not called')
  t.equal(logger.at('warn')[0]?.fields['cause'], 'no_agent')
})

t.test('only an explicit boolean false from the right agent kills', async (t) => {
  const cases: Array<{ name: string, behaviour: (k: KernelInfo) => AgentBehaviour, cause: SkipCause | null }> = [
    { name: 'true', behaviour: () => ({ running: true }), cause: null },
    { name: 'null', behaviour: () => ({ running: null }), cause: SkipCause.AGENT_ERROR },
    { name: 'undefined', behaviour: () => ({ running: undefined }), cause: SkipCause.AGENT_ERROR },
    { name: 'the string "false"', behaviour: () => ({ running: 'false' }), cause: SkipCause.AGENT_ERROR },
    { name: 'zero', behaviour: () => ({ running: 0 }), cause: SkipCause.AGENT_ERROR },
    {
      name: 'false, but from another agent id',
      behaviour: (k) => ({ answer: { agentId: 'a9', kernelId: k.id, running: false } }),
      cause: SkipCause.AGENT_MISMATCH,
    },
    {
      name: 'false, but about another kernel',
      behaviour: () => ({ answer: { agentId: 'a1', kernelId: runningKernel().id, running: false } }),
      cause: SkipCause.AGENT_ERROR,
    },
    { name: 'a timeout', behaviour: () => ({ error: new AgentTimeoutError('no answer in 5000 ms') }), cause: SkipCause.AGENT_TIMEOUT },
    { name: 'a 404 (mismatch)', behaviour: () => ({ error: new AgentMismatchError('404') }), cause: SkipCause.AGENT_MISMATCH },
    { name: 'a thrown non-Error', behaviour: () => ({ error: 'boom' as unknown as Error }), cause: SkipCause.AGENT_ERROR },
  ]
  for (const { name, behaviour, cause } of cases) {
    await t.test(name, async (t) => {
      const k1 = runningKernel('a1')
      const { terminator, logger } = setup({ [k1.id]: STALE }, { [k1.id]: behaviour(k1) })

      const check = await terminator.checkStaleKernels(KernelPages.of([k1]))

      t.same(check.deadKernelIds, [], 'left alive')
      t.same(check.skipped, cause === null ? [] : [{ kernelId: k1.id, cause }])
      const warnings = logger.at('warn')
      t.equal(warnings.length, cause === null ? 0 : 1)
      if (cause !== null) t.equal(warnings[0]?.fields['kernel_id'], k1.id, 'the warning names the kernel')
    })
  }
})

t.test('UNHEALTHY is alive; no record is suspect', async (t) => {
  const [unhealthy, missing, alive] = [runningKernel('a1'), runningKernel('a1'), runningKernel('a1')]
  const { terminator, agentClientPool } = setup(
    { [unhealthy.id]: UNHEALTHY, [alive.id]: ALIVE },
    { [missing.id]: { running: false } }
  )

  const check = await terminator.checkStaleKernels(KernelPages.of([unhealthy, missing, alive]))

  t.same(check.deadKernelIds, [missing.id])
  t.same(agentClientPool.checks.map((c) => c.kernelId), [missing.id], 'only the kernel with no record is asked')
})

t.test('stage 1 reads every kernel once, with each agent named once', async (t) => {
  const kernels = [runningKernel('a1'), runningKernel('a2'), runningKernel('a1'), runningKernel(null)]
  const { terminator, presenceStore } = setup(Object.fromEntries(kernels.map((k) => [k.id, ALIVE])), {})

  await terminator.checkStaleKernels(KernelPages.of(kernels))

  t.same(presenceStore.calls, [{ kernelIds: kernels.map((k) => k.id), agentIds: ['a1', 'a2'] }])
})

t.test('an empty list asks neither the presence store nor any agent', async (t) => {
  const { terminator, presenceStore, agentClientPool } = setup({}, {})
  t.same(await terminator.checkStaleKernels(KernelPages.of([])), staleCheck([]))
  t.equal(presenceStore.calls.length, 0)
  t.equal(agentClientPool.acquired.length, 0)
})

t.test('a presence store failure propagates and no agent is asked', async (t) => {
  const outage = new Error('presence store unreachable')
  const failingStore: PresenceChecker = { checkKernelPresenceStatusBatch: async () => { throw outage } }
  const agentClientPool = new FakeAgentClientPool({})
  const terminator = new SessionTerminator({
    presenceStore: failingStore, agentClientPool, agentStatuses: agentStatuses(), agentRpcConcurrency: 4, agentRpcBatchSize: 1000, logger: new CapturingLogger(),
  })
  await t.rejects(terminator.checkStaleKernels(KernelPages.of([runningKernel()])), outage)
  t.equal(agentClientPool.acquired.length, 0)
})

t.test('stage 1 starts on each page as it is read: the first page is checked before the next one is read', async (t) => {
  const pages = [[runningKernel('a1'), runningKernel('a2')], [runningKernel('a1')], [runningKernel('a3')]]
  const all = pages.flat()
  const { terminator, presenceStore, agentClientPool } = setup(Object.fromEntries(all.map((k, i) => [k.id, i === 1 ? STALE : ALIVE])), {
    [all[1]!.id]: { running: false },
  })
  const checkedBeforeRead: number[] = []
  // Each page after the first is read only once the one before it has reached the presence store:
  // a check that waited for every page first would never finish.
  async function * source (): AsyncGenerator<readonly HandlerKernel[]> {
    for (const [index, page] of pages.entries()) {
      if (index > 0) {
        while (presenceStore.calls.length < index) await new Promise((resolve) => setImmediate(resolve))
        checkedBeforeRead.push(presenceStore.calls.length)
      }
      yield page
    }
  }
  const check = await terminator.checkStaleKernels(new KernelPages(source()))
  t.same(checkedBeforeRead, [1, 2])
  t.same(presenceStore.calls, [
    { kernelIds: pages[0]!.map((k) => k.id), agentIds: ['a1', 'a2'] },
    { kernelIds: pages[1]!.map((k) => k.id), agentIds: ['a1'] },
    { kernelIds: pages[2]!.map((k) => k.id), agentIds: ['a3'] },
  ], 'one check per page, each naming the page\'s agents')
  t.same(check.deadKernelIds, [all[1]!.id])
  t.same(agentClientPool.checks.map((c) => c.kernelId), [all[1]!.id], 'only the stale kernel is asked, once every page is checked')
})

t.test('a read that fails half-way fails the check: no agent is asked, and the checks sent are all settled', async (t) => {
  const first = [runningKernel('a1')]
  const broken = new Error('connection to the database lost')
  let settled = 0
  const slowStore: PresenceChecker = {
    checkKernelPresenceStatusBatch: async (kernels) => {
      await new Promise((resolve) => setTimeout(resolve, 30))
      settled++
      return new Map(kernels.map((kernel) => [kernel.id, null]))
    },
  }
  const agentClientPool = new FakeAgentClientPool({ [first[0]!.id]: { running: false } })
  const terminator = new SessionTerminator({
    presenceStore: slowStore, agentClientPool, agentStatuses: agentStatuses(), agentRpcConcurrency: 4, agentRpcBatchSize: 1000, logger: new CapturingLogger(),
  })
  async function * source (): AsyncGenerator<readonly HandlerKernel[]> {
    yield first
    throw broken
  }
  await t.rejects(terminator.checkStaleKernels(new KernelPages(source())), broken)
  t.equal(settled, 1, 'the first page\'s check had finished before the check failed')
  t.equal(agentClientPool.acquired.length, 0, 'no verdict from half a group')
})

t.test('a presence store failure on one page stops the reading: the check rejects with it, nothing left unhandled', async (t) => {
  const outage = new Error('presence store unreachable')
  const failingStore: PresenceChecker = { checkKernelPresenceStatusBatch: async () => { throw outage } }
  const agentClientPool = new FakeAgentClientPool({})
  const terminator = new SessionTerminator({
    presenceStore: failingStore, agentClientPool, agentStatuses: agentStatuses(), agentRpcConcurrency: 4, agentRpcBatchSize: 1000, logger: new CapturingLogger(),
  })
  let read = 0
  async function * source (): AsyncGenerator<readonly HandlerKernel[]> {
    for (let page = 0; page < 50; page++) {
      read++
      // A database round trip per page, during which the failed check is noticed.
      await new Promise((resolve) => setTimeout(resolve, 2))
      yield [runningKernel()]
    }
  }
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => { process.off('unhandledRejection', onUnhandled) })
  await t.rejects(terminator.checkStaleKernels(new KernelPages(source())), outage)
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.ok(read < 50, `${read} of 50 pages read`)
  t.same(unhandled, [])
  t.equal(agentClientPool.acquired.length, 0)
})

t.test('50 suspects on 10 agents: checks overlap, never beyond the bound, results in input order', async (t) => {
  const bound = 8
  const kernels = Array.from({ length: 50 }, (_, i) => runningKernel(`a${i % 10}`))
  const behaviours = Object.fromEntries(kernels.map((k, i) => [k.id, { running: i % 3 !== 0, delayMs: 5 + (i % 7) }]))
  const { terminator, agentClientPool } = setup(Object.fromEntries(kernels.map((k) => [k.id, STALE])), behaviours, bound)

  const check = await terminator.checkStaleKernels(KernelPages.of(kernels))

  t.equal(agentClientPool.checks.length, 50, 'every suspect asked once')
  t.ok(agentClientPool.peakInFlight > 1, `checks overlapped (peak ${agentClientPool.peakInFlight})`)
  t.ok(agentClientPool.peakInFlight <= bound, `never more than ${bound} in flight (peak ${agentClientPool.peakInFlight})`)
  t.equal(agentClientPool.peakInFlight, bound, 'the bound is used in full')
  t.same(check.deadKernelIds, kernels.filter((_, i) => i % 3 === 0).map((k) => k.id))
})

t.test('the concurrency bound and the batch size must be positive integers', async (t) => {
  const deps = {
    presenceStore: new FakePresenceStore({}),
    agentClientPool: new FakeAgentClientPool({}),
    agentStatuses: agentStatuses(),
    agentRpcConcurrency: 32,
    agentRpcBatchSize: 1000,
    logger: new CapturingLogger(),
  }
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    t.throws(() => new SessionTerminator({ ...deps, agentRpcConcurrency: bad }), RangeError, `rejects a concurrency of ${bad}`)
    t.throws(() => new SessionTerminator({ ...deps, agentRpcBatchSize: bad }), RangeError, `rejects a batch size of ${bad}`)
  }
  t.doesNotThrow(() => new SessionTerminator(deps))
})
