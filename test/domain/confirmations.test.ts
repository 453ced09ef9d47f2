import t from 'tap'
import { applyConfirmations } from '../../src/domain/confirmations.js'
import { KernelStatus } from '../../src/domain/kernel-status.js'
import { SkipCause, type KernelExecutionResult } from '../../src/domain/results.js'
import { runningKernel } from '../helpers/kernels.js'

const { RUNNING } = KernelStatus
const ids = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000004']
const kernels = ids.map((id, i) => ({ ...runningKernel('a1', id), version: i + 1 }))
const [k1, k2, k3, k4] = kernels.map((kernel) => kernel.id) as [string, string, string, string]

// k1 alive, k2 and k4 called dead by their agent, k3 skipped (timeout).
const checked: KernelExecutionResult = {
  successes: [{ kernelId: k1, fromStatus: RUNNING, reason: null }, { kernelId: k3, fromStatus: RUNNING, reason: null }],
  failures: [{ kernelId: k2, fromStatus: RUNNING, reason: 'STALE_KERNEL' }, { kernelId: k4, fromStatus: RUNNING, reason: 'STALE_KERNEL' }],
  skipped: [{ kernelId: k3, cause: SkipCause.AGENT_TIMEOUT }],
}

t.test('rule 11: one confirmation required changes nothing', async (t) => {
  const { result, counts } = applyConfirmations(kernels, checked, new Map(), 1)
  t.equal(result, checked)
  t.same(counts, [{ kernelId: k2, kernelVersion: 2, count: 1 }, { kernelId: k4, kernelVersion: 4, count: 1 }])
})

t.test('rule 11: failures short of the count go back to the successes, in input order, awaiting confirmation', async (t) => {
  const previous = new Map([[k4, { kernelVersion: 4, count: 2 }]])
  const { result, counts } = applyConfirmations(kernels, checked, previous, 3)
  t.same([...result.successes].map((s) => [s.kernelId, s.reason]), [[k1, null], [k2, null], [k3, null]], 'k2 back among the successes, in place')
  t.same(result.failures.map((f) => f.kernelId), [k4], 'k4 reached its third confirmation')
  t.same(result.skipped, [
    { kernelId: k2, cause: SkipCause.AWAITING_CONFIRMATION, confirmations: 1 },
    { kernelId: k3, cause: SkipCause.AGENT_TIMEOUT },
  ])
  t.same(counts, [{ kernelId: k2, kernelVersion: 2, count: 1 }, { kernelId: k4, kernelVersion: 4, count: 3 }])
})

t.test('rule 11: a count kept at another version starts again; a count past the requirement still terminates', async (t) => {
  const table: Array<[string, { kernelVersion: number, count: number }, number, boolean]> = [
    ['same version, one short', { kernelVersion: 2, count: 1 }, 2, false],
    ['same version, reaches it', { kernelVersion: 2, count: 2 }, 3, true],
    ['same version, past it (the guard held it back)', { kernelVersion: 2, count: 5 }, 6, true],
    ['another version: starts again', { kernelVersion: 1, count: 2 }, 1, false],
  ]
  for (const [name, before, count, terminated] of table) {
    const { result, counts } = applyConfirmations(kernels, checked, new Map([[k2, before]]), 3)
    t.equal(counts[0]?.count, count, `${name}: count`)
    t.equal(result.failures.some((f) => f.kernelId === k2), terminated, `${name}: terminated`)
  }
})

t.test('rule 11: a failure that was not handed to the handler is a programming error', async (t) => {
  t.throws(() => applyConfirmations(kernels.slice(0, 1), checked, new Map(), 2))
})
