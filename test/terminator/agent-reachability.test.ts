import t from 'tap'
import {
  AgentHttpStatusError, AgentMalformedResponseError, AgentMismatchError, AgentTimeoutError, AgentUnknownError,
  AgentUnreachableError,
} from '../../src/agents/agent-errors.js'
import { AgentStatus } from '../../src/domain/agent.js'
import type { AgentId, KernelInfo } from '../../src/domain/kernel-info.js'
import { HealthCheckStatus } from '../../src/domain/presence.js'
import { SkipCause } from '../../src/domain/results.js'
import { SessionTerminator, type AgentStatuses } from '../../src/terminator/session-terminator.js'
import { CapturingLogger } from '../helpers/capturing-logger.js'
import { type AgentBehaviour, agentStatuses, FakeAgentClientPool, FakePresenceStore } from '../helpers/fake-ports.js'
import { runningKernel } from '../helpers/kernels.js'
import { KernelPages } from '../../src/domain/kernel-pages.js'

/*
 * Contract §2 rules 12 (what a check learns of each agent it asked), 13 (suspects of a lost agent are
 * dead, AGENT_LOST) and 3/14 (a decommissioned agent is never asked), on SessionTerminator with fakes.
 */

const { ALIVE } = HealthCheckStatus

/** Every kernel given is a suspect (no presence record) unless listed in `alive`; the fake agents behave per kernel. */
function setup (
  behaviours: Record<string, AgentBehaviour>,
  statuses: Record<AgentId, AgentStatus> = {},
  alive: readonly KernelInfo[] = []
) {
  const presenceStore = new FakePresenceStore(Object.fromEntries(alive.map((kernel) => [kernel.id, ALIVE])))
  const agentClientPool = new FakeAgentClientPool(behaviours)
  const logger = new CapturingLogger()
  const statusCalls: Array<readonly AgentId[]> = []
  const inner = agentStatuses(statuses)
  const recording: AgentStatuses = {
    statusesOf: async (agentIds) => {
      statusCalls.push(agentIds)
      return inner.statusesOf(agentIds)
    },
  }
  const terminator = new SessionTerminator({ presenceStore, agentClientPool, agentStatuses: recording, agentRpcConcurrency: 4, agentRpcBatchSize: 1000, logger })
  return { terminator, agentClientPool, logger, statusCalls }
}

const refused = (): AgentBehaviour => ({ error: new AgentUnreachableError('connect ECONNREFUSED 127.0.0.1:9') })
const timedOut = (): AgentBehaviour => ({ error: new AgentTimeoutError('no answer within 5000 ms') })
const notFound = (): AgentBehaviour => ({ error: new AgentMismatchError('agent at http://127.0.0.1:9 does not host agent a1 (404)') })
const serverError = (status = 500): AgentBehaviour => ({ error: new AgentHttpStatusError(status) })
const malformedFromAgent = (): AgentBehaviour => ({ error: new AgentMalformedResponseError('answered without a boolean running', { fromAgent: true }) })
const malformedAnonymous = (): AgentBehaviour => ({ error: new AgentMalformedResponseError('answered something that is not JSON') })

type Reach = 'reached' | 'unreachable' | 'neither'

function reachOf (check: { reachability: { reached: readonly AgentId[], unreachable: readonly AgentId[] } }, agentId: AgentId): Reach {
  const reached = check.reachability.reached.includes(agentId)
  const unreachable = check.reachability.unreachable.includes(agentId)
  if (reached && unreachable) throw new Error(`${agentId} both reached and unreachable`)
  return reached ? 'reached' : unreachable ? 'unreachable' : 'neither'
}

t.test('rule 12: one call per agent, every outcome', async (t) => {
  const cases: Array<{ name: string, behaviour: (k: KernelInfo) => AgentBehaviour, reach: Reach, dead: boolean, cause: SkipCause | null }> = [
    { name: 'answers false (dead)', behaviour: () => ({ running: false }), reach: 'reached', dead: true, cause: null },
    { name: 'answers true (alive)', behaviour: () => ({ running: true }), reach: 'reached', dead: false, cause: null },
    { name: 'answers running: null as itself', behaviour: () => ({ running: null }), reach: 'reached', dead: false, cause: SkipCause.AGENT_ERROR },
    {
      name: 'answers as itself about another kernel',
      behaviour: () => ({ answer: { agentId: 'a1', kernelId: runningKernel().id, running: false } }),
      reach: 'reached',
      dead: false,
      cause: SkipCause.AGENT_ERROR,
    },
    { name: 'a malformed 200 naming the agent', behaviour: malformedFromAgent, reach: 'reached', dead: false, cause: SkipCause.AGENT_ERROR },
    { name: 'refused / reset', behaviour: refused, reach: 'unreachable', dead: false, cause: SkipCause.AGENT_ERROR },
    { name: 'timed out', behaviour: timedOut, reach: 'unreachable', dead: false, cause: SkipCause.AGENT_TIMEOUT },
    { name: 'a 404', behaviour: notFound, reach: 'unreachable', dead: false, cause: SkipCause.AGENT_MISMATCH },
    {
      name: 'false, answered by another agent id',
      behaviour: (k) => ({ answer: { agentId: 'b7', kernelId: k.id, running: false } }),
      reach: 'unreachable',
      dead: false,
      cause: SkipCause.AGENT_MISMATCH,
    },
    { name: 'a 500', behaviour: () => serverError(500), reach: 'neither', dead: false, cause: SkipCause.AGENT_ERROR },
    { name: 'a 503', behaviour: () => serverError(503), reach: 'neither', dead: false, cause: SkipCause.AGENT_ERROR },
    { name: 'a malformed body naming no agent', behaviour: malformedAnonymous, reach: 'neither', dead: false, cause: SkipCause.AGENT_ERROR },
    { name: 'some other error', behaviour: () => ({ error: new Error('boom') }), reach: 'neither', dead: false, cause: SkipCause.AGENT_ERROR },
    { name: 'not registered (AgentUnknownError)', behaviour: () => ({ error: new AgentUnknownError('agent a1 is not registered') }), reach: 'neither', dead: false, cause: SkipCause.AGENT_ERROR },
  ]
  for (const { name, behaviour, reach, dead, cause } of cases) {
    await t.test(name, async (t) => {
      const k1 = runningKernel('a1')
      const { terminator, agentClientPool } = setup({ [k1.id]: behaviour(k1) }, { a1: AgentStatus.ALIVE })

      const check = await terminator.checkStaleKernels(KernelPages.of([k1]))

      t.equal(reachOf(check, 'a1'), reach)
      t.same(check.reachability, {
        reached: reach === 'reached' ? ['a1'] : [],
        unreachable: reach === 'unreachable' ? ['a1'] : [],
      }, 'no other agent named')
      t.same(check.deadKernelIds, dead ? [k1.id] : [])
      t.same(check.lostKernelIds, [], 'an ALIVE agent loses nothing')
      t.same(check.skipped, cause === null ? [] : [{ kernelId: k1.id, cause }])
      t.same(agentClientPool.checks, [{ agentId: 'a1', kernelId: k1.id }], 'asked once')
    })
  }
})

t.test('rule 12: several calls to one agent', async (t) => {
  const cases: Array<{ name: string, behaviours: Array<() => AgentBehaviour>, reach: Reach }> = [
    { name: 'one answered + one timed out: reached', behaviours: [() => ({ running: true }), timedOut], reach: 'reached' },
    { name: 'one timed out + one answered false: reached', behaviours: [timedOut, () => ({ running: false })], reach: 'reached' },
    { name: 'one malformed naming it + one refused: reached', behaviours: [refused, malformedFromAgent], reach: 'reached' },
    { name: 'one 500 + one timed out: neither', behaviours: [serverError, timedOut], reach: 'neither' },
    { name: 'one anonymous malformed + one refused: neither', behaviours: [malformedAnonymous, refused], reach: 'neither' },
    { name: 'refused + timed out + 404: unreachable', behaviours: [refused, timedOut, notFound], reach: 'unreachable' },
    { name: 'two 500s: neither', behaviours: [serverError, serverError], reach: 'neither' },
    { name: 'two timed out: unreachable', behaviours: [timedOut, timedOut], reach: 'unreachable' },
  ]
  for (const { name, behaviours, reach } of cases) {
    await t.test(name, async (t) => {
      const kernels = behaviours.map(() => runningKernel('a1'))
      const { terminator, agentClientPool } = setup(
        Object.fromEntries(kernels.map((kernel, index) => [kernel.id, behaviours[index]!()])), { a1: AgentStatus.ALIVE })

      const check = await terminator.checkStaleKernels(KernelPages.of(kernels))

      t.equal(reachOf(check, 'a1'), reach)
      t.equal([...check.reachability.reached, ...check.reachability.unreachable].filter((id) => id === 'a1').length,
        reach === 'neither' ? 0 : 1, 'the agent is named once, however many calls')
      t.equal(agentClientPool.checks.length, kernels.length, 'every suspect asked')
    })
  }
})

t.test('rule 12: agents are judged separately; agents not asked are not named', async (t) => {
  const [r1, r2, u1, u2, n1, quiet, orphan] = [
    runningKernel('a1'), runningKernel('a1'), runningKernel('a2'), runningKernel('a2'), runningKernel('a3'), runningKernel('a4'), runningKernel(null),
  ]
  const { terminator, agentClientPool, statusCalls } = setup({
    [r1.id]: timedOut(),
    [r2.id]: { running: false },
    [u1.id]: refused(),
    [u2.id]: (() => ({ answer: { agentId: 'zz', kernelId: u2.id, running: true } }))(),
    [n1.id]: serverError(502),
  }, { a1: AgentStatus.ALIVE, a2: AgentStatus.ALIVE, a3: AgentStatus.ALIVE, a4: AgentStatus.ALIVE }, [quiet])

  const check = await terminator.checkStaleKernels(KernelPages.of([r1, r2, u1, u2, n1, quiet, orphan]))

  t.same(check.reachability, { reached: ['a1'], unreachable: ['a2'] })
  t.same(check.deadKernelIds, [r2.id])
  t.same(check.lostKernelIds, [])
  t.same(check.skipped, [
    { kernelId: r1.id, cause: SkipCause.AGENT_TIMEOUT },
    { kernelId: u1.id, cause: SkipCause.AGENT_ERROR },
    { kernelId: u2.id, cause: SkipCause.AGENT_MISMATCH },
    { kernelId: n1.id, cause: SkipCause.AGENT_ERROR },
    { kernelId: orphan.id, cause: SkipCause.NO_AGENT },
  ], 'in input order')
  t.notOk(agentClientPool.acquired.includes('a4'), 'an agent whose kernels are all alive is not asked')
  t.same(statusCalls, [['a1', 'a2', 'a3']], 'statuses read once, for the suspects\' agents only, no null')
})

t.test('rule 12: no suspect, no agent asked, nothing learned', async (t) => {
  const k1 = runningKernel('a1')
  const { terminator, agentClientPool, statusCalls } = setup({}, { a1: AgentStatus.LOST }, [k1])

  const check = await terminator.checkStaleKernels(KernelPages.of([k1]))

  t.same(check, { deadKernelIds: [], lostKernelIds: [], skipped: [], reachability: { reached: [], unreachable: [] } })
  t.same(agentClientPool.acquired, [])
  t.same(statusCalls, [], 'no status read without a suspect')
})

t.test('rule 13: a LOST agent unreachable again: its suspect is lost, whatever the unreachable outcome', async (t) => {
  const cases: Array<{ name: string, behaviour: (k: KernelInfo) => AgentBehaviour }> = [
    { name: 'refused', behaviour: refused },
    { name: 'timed out', behaviour: timedOut },
    { name: 'a 404', behaviour: notFound },
    { name: 'an answer naming another agent', behaviour: (k) => ({ answer: { agentId: 'newcomer', kernelId: k.id, running: true } }) },
  ]
  for (const { name, behaviour } of cases) {
    await t.test(name, async (t) => {
      const k1 = runningKernel('a1')
      const { terminator, logger } = setup({ [k1.id]: behaviour(k1) }, { a1: AgentStatus.LOST })

      const check = await terminator.checkStaleKernels(KernelPages.of([k1]))

      t.same(check.lostKernelIds, [k1.id], 'lost')
      t.same(check.deadKernelIds, [], 'not confirmed dead by its agent: lost is its own list')
      t.same(check.skipped, [], 'not skipped')
      t.same(check.reachability, { reached: [], unreachable: ['a1'] })
      const lostWarning = logger.at('warn').find((entry) => entry.fields['kernel_ids'] !== undefined)
      t.same(lostWarning?.fields['kernel_ids'], [k1.id], 'a warning names the lost kernels')
    })
  }
})

t.test('rule 13: every suspect of a lost agent, in input order, beside kernels confirmed dead', async (t) => {
  const [l1, d1, l2, alive] = [runningKernel('a1'), runningKernel('a2'), runningKernel('a1'), runningKernel('a1')]
  const { terminator } = setup(
    { [l1.id]: refused(), [d1.id]: { running: false }, [l2.id]: timedOut() },
    { a1: AgentStatus.LOST, a2: AgentStatus.ALIVE },
    [alive]
  )

  const check = await terminator.checkStaleKernels(KernelPages.of([l1, d1, l2, alive]))

  t.same(check.lostKernelIds, [l1.id, l2.id])
  t.same(check.deadKernelIds, [d1.id])
  t.same(check.skipped, [])
  t.same(check.reachability, { reached: ['a2'], unreachable: ['a1'] })
})

t.test('rule 13: a LOST agent reached in this sweep loses nothing', async (t) => {
  const cases: Array<{ name: string, other: () => AgentBehaviour, dead: boolean }> = [
    { name: 'another kernel answered true', other: () => ({ running: true }), dead: false },
    { name: 'another kernel answered false', other: () => ({ running: false }), dead: true },
    { name: 'another kernel got a malformed 200 naming the agent', other: malformedFromAgent, dead: false },
  ]
  for (const { name, other, dead } of cases) {
    await t.test(name, async (t) => {
      const [k1, k2] = [runningKernel('a1'), runningKernel('a1')]
      const { terminator } = setup({ [k1.id]: refused(), [k2.id]: other() }, { a1: AgentStatus.LOST })

      const check = await terminator.checkStaleKernels(KernelPages.of([k1, k2]))

      t.same(check.lostKernelIds, [], 'not lost: the agent answered')
      t.same(check.deadKernelIds, dead ? [k2.id] : [])
      t.same(check.skipped.find((entry) => entry.kernelId === k1.id), { kernelId: k1.id, cause: SkipCause.AGENT_ERROR }, 'the refused call is skipped')
      t.same(check.reachability, { reached: ['a1'], unreachable: [] })
    })
  }
})

t.test('rule 13: a LOST agent whose call gave no reachability verdict: skipped, not lost', async (t) => {
  const cases: Array<{ name: string, behaviour: () => AgentBehaviour }> = [
    { name: 'a 500', behaviour: serverError },
    { name: 'an anonymous malformed body', behaviour: malformedAnonymous },
    { name: 'not registered any more (AgentUnknownError)', behaviour: () => ({ error: new AgentUnknownError('agent a1 is not registered') }) },
  ]
  for (const { name, behaviour } of cases) {
    await t.test(name, async (t) => {
      const k1 = runningKernel('a1')
      const { terminator } = setup({ [k1.id]: behaviour() }, { a1: AgentStatus.LOST })

      const check = await terminator.checkStaleKernels(KernelPages.of([k1]))

      t.same(check.lostKernelIds, [])
      t.same(check.deadKernelIds, [])
      t.same(check.skipped, [{ kernelId: k1.id, cause: SkipCause.AGENT_ERROR }])
      t.same(check.reachability, { reached: [], unreachable: [] })
    })
  }
})

t.test('rule 13: a LOST agent, one call timed out and another 500: the timed-out suspect is lost, the other skipped', async (t) => {
  // The agent is not reached in this sweep, so after this sweep's record (which changes nothing:
  // neither reached nor unreachable on every call) it is still unreachable for longer than
  // AGENT_LOST_AFTER_SEC. The suspect whose own check ended unreachable is dead (contract rule 13).
  const [k1, k2] = [runningKernel('a1'), runningKernel('a1')]
  const { terminator } = setup({ [k1.id]: timedOut(), [k2.id]: serverError() }, { a1: AgentStatus.LOST })

  const check = await terminator.checkStaleKernels(KernelPages.of([k1, k2]))

  t.same(check.reachability, { reached: [], unreachable: [] }, 'rule 12: nothing recorded of the agent')
  t.same(check.skipped.find((entry) => entry.kernelId === k2.id), { kernelId: k2.id, cause: SkipCause.AGENT_ERROR }, 'the 500 is skipped')
  t.same(check.lostKernelIds, [k1.id], 'the timed-out suspect of the still-lost agent is lost')
})

t.test('rule 13: an agent not yet LOST, or with no agent at all, is never lost', async (t) => {
  const cases: Array<{ name: string, agentId: AgentId | null, statuses: Record<AgentId, AgentStatus>, behaviour: () => AgentBehaviour, cause: SkipCause }> = [
    { name: 'UNREACHABLE, refused', agentId: 'a1', statuses: { a1: AgentStatus.UNREACHABLE }, behaviour: refused, cause: SkipCause.AGENT_ERROR },
    { name: 'UNREACHABLE, timed out', agentId: 'a1', statuses: { a1: AgentStatus.UNREACHABLE }, behaviour: timedOut, cause: SkipCause.AGENT_TIMEOUT },
    { name: 'UNREACHABLE, 404', agentId: 'a1', statuses: { a1: AgentStatus.UNREACHABLE }, behaviour: notFound, cause: SkipCause.AGENT_MISMATCH },
    { name: 'ALIVE, refused', agentId: 'a1', statuses: { a1: AgentStatus.ALIVE }, behaviour: refused, cause: SkipCause.AGENT_ERROR },
    { name: 'unregistered agent (AgentUnknownError)', agentId: 'a1', statuses: {}, behaviour: () => ({ error: new AgentUnknownError('agent a1 is not registered') }), cause: SkipCause.AGENT_ERROR },
    { name: 'unregistered agent, refused', agentId: 'a1', statuses: {}, behaviour: refused, cause: SkipCause.AGENT_ERROR },
    { name: 'no agent', agentId: null, statuses: {}, behaviour: refused, cause: SkipCause.NO_AGENT },
  ]
  for (const { name, agentId, statuses, behaviour, cause } of cases) {
    await t.test(name, async (t) => {
      const k1 = runningKernel(agentId)
      const { terminator, agentClientPool } = setup({ [k1.id]: behaviour() }, statuses)

      const check = await terminator.checkStaleKernels(KernelPages.of([k1]))

      t.same(check.lostKernelIds, [])
      t.same(check.deadKernelIds, [])
      t.same(check.skipped, [{ kernelId: k1.id, cause }])
      if (agentId === null) {
        t.same(agentClientPool.acquired, [], 'a kernel with no agent is never asked')
        t.same(check.reachability, { reached: [], unreachable: [] })
      }
    })
  }
})

t.test('rules 3 and 14: a decommissioned agent is never asked, and nothing is learned of it', async (t) => {
  const [d1, d2, other] = [runningKernel('a1'), runningKernel('a1'), runningKernel('a2')]
  const { terminator, agentClientPool, logger } = setup(
    // Were it asked, a1 would say "dead": only the status keeps it from being asked.
    { [d1.id]: { running: false }, [d2.id]: refused(), [other.id]: { running: false } },
    { a1: AgentStatus.DECOMMISSIONED, a2: AgentStatus.ALIVE }
  )

  const check = await terminator.checkStaleKernels(KernelPages.of([d1, d2, other]))

  t.same(agentClientPool.acquired, ['a2'], 'only the other agent acquired')
  t.same(agentClientPool.checks, [{ agentId: 'a2', kernelId: other.id }], 'only the other agent asked')
  t.same(check.skipped, [
    { kernelId: d1.id, cause: SkipCause.AGENT_DECOMMISSIONED },
    { kernelId: d2.id, cause: SkipCause.AGENT_DECOMMISSIONED },
  ])
  t.same(check.deadKernelIds, [other.id])
  t.same(check.lostKernelIds, [])
  t.same(check.reachability, { reached: ['a2'], unreachable: [] }, 'the decommissioned agent is in neither list')
  const warnings = logger.at('warn').filter((entry) => entry.fields['cause'] === 'agent_decommissioned')
  t.same(warnings.map((entry) => entry.fields['kernel_id']), [d1.id, d2.id], 'a warning per kernel left alone')
})
