import t from 'tap'
import { KernelStatus } from '../../src/domain/kernel-status.js'
import { LockID } from '../../src/domain/lock-id.js'
import { KernelTransitionRuns, SkipCause } from '../../src/domain/results.js'
import { SweepStaleKernelsKernelHandler } from '../../src/handlers/sweep-stale-kernels.js'
import { CapturingLogger } from '../helpers/capturing-logger.js'
import { FakeTerminator, staleCheck } from '../helpers/fake-ports.js'
import { runningKernel } from '../helpers/kernels.js'
import { KernelPages } from '../../src/domain/kernel-pages.js'

function handlerWith (terminator: FakeTerminator, logger = new CapturingLogger()) {
  return new SweepStaleKernelsKernelHandler(terminator, logger)
}

t.test('the handler declares what the coordinator reads', async (t) => {
  const handler = handlerWith(new FakeTerminator(staleCheck([])))
  t.equal(handler.name, 'sweep-stale-kernels')
  t.same(handler.targetKernelStatuses, [KernelStatus.RUNNING])
  t.same(handler.statusTransitions, { success: null, failure: KernelStatus.TERMINATED })
  t.equal(handler.lockId, LockID.LOCKID_SOKOVAN_TARGET_TERMINATING)
  t.equal(handler.lockId, 233)
})

t.test('SC-SK-001: all kernels alive - no state change', async (t) => {
  const [k1, k2] = [runningKernel(), runningKernel()]
  const terminator = new FakeTerminator(staleCheck([]))

  const result = await handlerWith(terminator).execute('default', KernelPages.of([k1, k2]))

  t.equal(result.successes.length, 2)
  t.same([...result.successes][0], { kernelId: k1.id, fromStatus: KernelStatus.RUNNING, reason: null })
  t.equal(result.failures.length, 0)
  t.equal(terminator.calls.length, 1, 'check_stale_kernels called once')
  t.same(terminator.calls[0], [k1, k2], 'with the kernels it was given')
})

t.test('SC-SK-002: dead kernel detected - marked as failure', async (t) => {
  const [k1, k2, k3] = [runningKernel(), runningKernel(), runningKernel()]
  const terminator = new FakeTerminator(staleCheck([k2.id]))

  const result = await handlerWith(terminator).execute('default', KernelPages.of([k1, k2, k3]))

  t.equal(result.successes.length, 2)
  t.same([...result.successes].map((s) => s.kernelId), [k1.id, k3.id])
  t.equal(result.failures.length, 1)
  t.equal(result.failures[0]?.kernelId, k2.id)
  t.equal(result.failures[0]?.fromStatus, KernelStatus.RUNNING)
  t.equal(result.failures[0]?.reason, 'STALE_KERNEL')
  t.equal(terminator.calls.length, 1)
})

t.test('SC-SK-003: empty kernel list returns empty result', async (t) => {
  const terminator = new FakeTerminator(staleCheck([]))

  const result = await handlerWith(terminator).execute('default', KernelPages.of([]))

  t.equal(result.successes.length, 0)
  t.equal(result.failures.length, 0)
  t.equal(terminator.calls.length, 0, 'check_stale_kernels not called')
})

t.test('every kernel appears exactly once, in input order, in its list', async (t) => {
  const kernels = Array.from({ length: 8 }, () => runningKernel())
  const deadIndexes = [6, 1, 4]
  // The terminator's order must not leak into the result: input order is the contract.
  const terminator = new FakeTerminator(staleCheck(deadIndexes.map((i) => kernels[i]!.id)))

  const result = await handlerWith(terminator).execute('default', KernelPages.of(kernels))

  t.same(result.failures.map((f) => f.kernelId), [1, 4, 6].map((i) => kernels[i]!.id))
  t.same([...result.successes].map((s) => s.kernelId), [0, 2, 3, 5, 7].map((i) => kernels[i]!.id))
  t.ok([...result.successes].every((s) => s.reason === null))
  t.ok(result.failures.every((f) => f.reason === 'STALE_KERNEL'))
})

t.test('the successes are kept as ids and the run they share, not an object per kernel', async (t) => {
  const kernels = Array.from({ length: 1_000 }, () => runningKernel())
  const result = await handlerWith(new FakeTerminator(staleCheck([kernels[500]!.id]))).execute('default', KernelPages.of(kernels))
  t.type(result.successes, KernelTransitionRuns)
  const { kernelIds, runs } = result.successes as KernelTransitionRuns
  t.equal(kernelIds.length, 999)
  t.same(runs, [{ fromStatus: KernelStatus.RUNNING, reason: null, count: 999 }])
})

t.test('a dead id the handler was not given is ignored', async (t) => {
  const k1 = runningKernel()
  const stranger = runningKernel()
  const result = await handlerWith(new FakeTerminator(staleCheck([stranger.id])))
    .execute('default', KernelPages.of([k1]))
  t.same([...result.successes].map((s) => s.kernelId), [k1.id])
  t.same(result.failures, [])
})

t.test('skipped kernels stay successes and are reported as skipped', async (t) => {
  const [k1, k2] = [runningKernel(null), runningKernel()]
  const skipped = [{ kernelId: k1.id, cause: SkipCause.NO_AGENT }]
  const result = await handlerWith(new FakeTerminator(staleCheck([k2.id], skipped)))
    .execute('default', KernelPages.of([k1, k2]))
  t.same([...result.successes].map((s) => s.kernelId), [k1.id])
  t.same(result.skipped, skipped)
})

t.test("the terminator's exception propagates out of execute", async (t) => {
  const failure = new Error('presence store unreachable')
  await t.rejects(handlerWith(new FakeTerminator(failure)).execute('default', KernelPages.of([runningKernel()])), failure)
})

t.test('postProcess reports the swept kernels, and stays quiet when there are none', async (t) => {
  const [k1, k2] = [runningKernel(), runningKernel()]
  const logger = new CapturingLogger()
  const handler = handlerWith(new FakeTerminator(staleCheck([k2.id])), logger)

  await handler.postProcess(await handler.execute('default', KernelPages.of([k1])))
  t.same(logger.at('info'), [])

  await handler.postProcess(await handler.execute('default', KernelPages.of([k1, k2])))
  const [entry] = logger.at('info')
  t.equal(entry?.message, 'swept 1 stale kernel(s)')
  t.same(entry?.fields, { kernel_ids: [k2.id] })
})
