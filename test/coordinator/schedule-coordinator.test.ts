import t, { type Test } from 'tap'
import { ShuttingDownError, SweepFailedError } from '../../src/coordinator/errors.js'
import { backgroundSweep, pruneOlderThan } from '../../src/coordinator/background-sweeper.js'
import { ScheduleCoordinator } from '../../src/coordinator/schedule-coordinator.js'
import { ScheduleMarker } from '../../src/coordinator/schedule-marker.js'
import type { HandlerKernel, KernelInfo } from '../../src/domain/kernel-info.js'
import { KernelStatus } from '../../src/domain/kernel-status.js'
import { LockID } from '../../src/domain/lock-id.js'
import { ScheduleType } from '../../src/domain/schedule-type.js'
import { SweepStaleKernelsKernelHandler } from '../../src/handlers/sweep-stale-kernels.js'
import { Metrics } from '../../src/observability/metrics.js'
import { LockBusyError, LockExpiredError } from '../../src/persistence/locks/lock-factory.js'
import { persistenceOver } from '../../src/persistence/persistence.js'
import type { StaleKernelCheck, StaleKernelChecker } from '../../src/terminator/stale-kernel-checker.js'
import { CapturingLogger } from '../helpers/capturing-logger.js'
import { FakeLockFactory, FakeScheduleStore, staleCheck } from '../helpers/fake-ports.js'
import { kernel } from '../helpers/persistence-contract.js'
import { skipWithoutPostgres, testDatabase } from '../helpers/postgres.js'

type Check = (kernels: readonly HandlerKernel[]) => Promise<StaleKernelCheck>

/** The coordinator over real Postgres, with the ports the scenarios mock: terminator, lock factory, mark store. */
async function setup (t: Test, check: Check, guard = { maxRatio: 0.5, minKernels: 10 }, requiredConfirmations = 1) {
  const db = (await testDatabase(t)).open()
  const locks = new FakeLockFactory(db)
  const persistence = persistenceOver(db, locks)
  const logger = new CapturingLogger()
  const metrics = new Metrics()
  const marks = new FakeScheduleStore()
  const terminatorCalls: Array<readonly HandlerKernel[]> = []
  const terminator: StaleKernelChecker = {
    checkStaleKernels: async (pages) => {
      const kernels = await pages.all()
      terminatorCalls.push(kernels)
      return check(kernels)
    },
  }
  const handler = new SweepStaleKernelsKernelHandler(terminator, logger)
  const scheduleMarker = new ScheduleMarker({ store: marks, needs: persistence.scheduleMarkNeeds, logger, metrics, firstRetryMs: 20 })
  const coordinator = new ScheduleCoordinator({
    kernels: persistence.kernels,
    agents: persistence.agents,
    stateEngine: persistence.stateEngine,
    sweeps: persistence.sweeps,
    confirmations: persistence.confirmations,
    events: persistence.events,
    scheduleMarkNeeds: persistence.scheduleMarkNeeds,
    db,
    locks,
    scheduleMarker,
    guard,
    requiredConfirmations,
    lockLifetimeMs: 30_000,
    logger,
    metrics,
  })
  t.teardown(() => coordinator.close(0))
  return { coordinator, handler, persistence, locks, marks, scheduleMarker, logger, metrics, terminatorCalls }
}

const dead = (...kernels: KernelInfo[]): Check => async () => (staleCheck(kernels.map((k) => k.id)))

t.test('the coordinator', { skip: await skipWithoutPostgres() }, async (t) => {
  await t.test('SC-KH-INT-002: the lock is (233, group) with the lifetime, released after the sweep', async (t) => {
    const s = await setup(t, dead())
    await s.persistence.kernels.upsert(kernel())
    await s.coordinator.processKernelSchedule(s.handler, 'default')
    t.same(s.locks.acquired, [{ lockId: LockID.LOCKID_SOKOVAN_TARGET_TERMINATING, scope: 'default', lifetimeMs: 30_000 }])
    t.equal(s.locks.acquired[0]?.lockId, 233)
    t.equal(s.locks.released, 1, 'released after handler execution')
  })

  await t.test('SC-KH-INT-002: the lock is released after a handler error too, and the failed sweep is recorded', async (t) => {
    const s = await setup(t, async () => { throw new Error('presence store unreachable') })
    await s.persistence.kernels.upsert(kernel())
    const failure = await s.coordinator.processKernelSchedule(s.handler, 'default').catch((error: unknown) => error)
    t.type(failure, SweepFailedError)
    t.equal(s.locks.released, 1)
    const recorded = await s.persistence.sweeps.get((failure as SweepFailedError).sweepId)
    t.match(recorded, { outcome: 'failed', error: 'presence store unreachable', terminated: [] })
  })

  await t.test('a busy lock is LockBusyError at once, and nothing runs or is recorded', async (t) => {
    const s = await setup(t, dead())
    s.locks.busy = true
    await t.rejects(s.coordinator.processKernelSchedule(s.handler, 'default'), LockBusyError)
    t.equal(s.terminatorCalls.length, 0)
    t.same(await s.persistence.sweeps.list({ limit: 10 }), [])
  })

  await t.test('an empty group: no terminator call, an empty completed sweep', async (t) => {
    const s = await setup(t, dead())
    const sweep = await s.coordinator.processKernelSchedule(s.handler, 'empty')
    t.match(sweep, { outcome: 'completed', terminated: [], result: { successes: [], failures: [] } })
    t.equal(s.terminatorCalls.length, 0)
    t.same(s.marks.marked, [])
  })

  await t.test('dead kernels are terminated with one history row each, and the mark is set', async (t) => {
    const [k1, k2] = [kernel(), kernel()]
    const s = await setup(t, dead(k2))
    await s.persistence.kernels.upsertMany([k1, k2, kernel({ scalingGroup: 'other' }), kernel({ status: KernelStatus.PENDING })])
    const sweep = await s.coordinator.processKernelSchedule(s.handler, 'default')
    t.same(s.terminatorCalls[0]?.map((k) => k.id).sort(), [k1.id, k2.id].sort(), 'only the group\'s RUNNING kernels')
    t.same(sweep.terminated, [k2.id])
    t.equal((await s.persistence.kernels.get(k2.id))?.status, 'TERMINATED')
    t.match(await s.persistence.history.listForKernel(k2.id), [{ sweepId: sweep.sweepId, reason: 'STALE_KERNEL' }])
    t.same(s.marks.marked, [ScheduleType.DETECT_KERNEL_TERMINATION])
    t.same(await s.persistence.sweeps.get(sweep.sweepId), sweep, 'recorded as returned')
    t.match(s.logger.at('info').find((e) => e.message === 'swept 1 stale kernel(s)'), { fields: { kernel_ids: [k2.id] } }, 'postProcess ran')
  })

  await t.test('a kernel whose status moved during the check is left alone and not reported terminated', async (t) => {
    const k1 = kernel()
    const s = await setup(t, async (kernels) => {
      await s.persistence.kernels.upsert({ ...k1, status: KernelStatus.TERMINATING })
      return staleCheck(kernels.map((k) => k.id))
    })
    await s.persistence.kernels.upsert(k1)
    const sweep = await s.coordinator.processKernelSchedule(s.handler, 'default')
    t.same(sweep.result.failures.map((f) => f.kernelId), [k1.id], 'the handler found it dead')
    t.same(sweep.terminated, [], 'but its status had changed')
    t.equal((await s.persistence.kernels.get(k1.id))?.status, 'TERMINATING')
    t.same(s.marks.marked, [], 'nothing terminated, no mark')
  })

  await t.test('dry run: reported, nothing changed, nothing marked', async (t) => {
    const k1 = kernel()
    const s = await setup(t, dead(k1))
    await s.persistence.kernels.upsert(k1)
    const sweep = await s.coordinator.processKernelSchedule(s.handler, 'default', { dryRun: true })
    t.match(sweep, { outcome: 'dry_run', dryRun: true, terminated: [] })
    t.same(sweep.result.failures.map((f) => f.kernelId), [k1.id])
    t.equal((await s.persistence.kernels.get(k1.id))?.status, 'RUNNING')
    t.same(s.marks.marked, [])
  })

  await t.test('the guard trips on mass death and nothing is terminated; force bypasses it', async (t) => {
    const kernels = Array.from({ length: 12 }, () => kernel())
    const s = await setup(t, dead(...kernels.slice(0, 10)))
    await s.persistence.kernels.upsertMany(kernels)
    const tripped = await s.coordinator.processKernelSchedule(s.handler, 'default')
    t.match(tripped, { outcome: 'guard_tripped', terminated: [] })
    t.equal(tripped.result.failures.length, 10)
    t.equal((await s.persistence.kernels.searchKernelsForHandler('default', [KernelStatus.RUNNING]).all()).length, 12)
    t.same(s.marks.marked, [])
    t.match(s.logger.at('warn')[0], { message: 'mass-termination guard tripped: nothing terminated' })

    const forced = await s.coordinator.processKernelSchedule(s.handler, 'default', { force: true })
    t.match(forced, { outcome: 'completed', forced: true })
    t.equal(forced.terminated.length, 10)
  })

  await t.test('a sweep that outlived its lock writes nothing, is recorded failed, and says lock expired', async (t) => {
    const k1 = kernel()
    const s = await setup(t, async (kernels) => {
      s.locks.valid = false // the lifetime ran out while agents were asked
      return staleCheck(kernels.map((k) => k.id))
    })
    await s.persistence.kernels.upsert(k1)
    const failure = await s.coordinator.processKernelSchedule(s.handler, 'default').catch((error: unknown) => error) as SweepFailedError
    t.type(failure.cause, LockExpiredError)
    t.equal((await s.persistence.kernels.get(k1.id))?.status, 'RUNNING')
    t.same(await s.persistence.history.listForKernel(k1.id), [])
    t.match(await s.persistence.sweeps.get(failure.sweepId), { outcome: 'failed', terminated: [] })
    t.equal(s.locks.released, 1)
  })

  await t.test('a mark that cannot be set does not undo the sweep; it is retried until set', async (t) => {
    const k1 = kernel()
    const s = await setup(t, dead(k1))
    await s.persistence.kernels.upsert(k1)
    s.marks.failing = true
    const sweep = await s.coordinator.processKernelSchedule(s.handler, 'default')
    t.same(sweep.terminated, [k1.id], 'the sweep answers its terminations')
    t.equal(sweep.outcome, 'completed')
    t.match(s.logger.at('error')[0], { message: 'schedule mark not set; retrying in the background' })
    t.equal((await s.metrics.scheduleMarkFailures.get()).values[0]?.value, 1)
    t.same((await s.persistence.scheduleMarkNeeds.pending()).map((need) => need.type), [ScheduleType.DETECT_KERNEL_TERMINATION],
      'the need is in the database, committed with the termination')
    s.marks.failing = false
    for (let i = 0; i < 50 && s.marks.marked.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    t.same(s.marks.marked, [ScheduleType.DETECT_KERNEL_TERMINATION], 'set by the retry')
    t.same(await s.persistence.scheduleMarkNeeds.pending(), [], 'and the need cleared')
  })

  await t.test('a need left by a crash is met by the next start: another marker over the same database sets it', async (t) => {
    const k1 = kernel()
    const s = await setup(t, dead(k1))
    await s.persistence.kernels.upsert(k1)
    s.marks.failing = true
    await s.coordinator.processKernelSchedule(s.handler, 'default')
    await s.coordinator.close(0) // the process dies with the mark unset: only the database remembers
    t.same(s.marks.marked, [])
    const restarted = new FakeScheduleStore()
    const marker = new ScheduleMarker({ store: restarted, needs: s.persistence.scheduleMarkNeeds, logger: s.logger, metrics: s.metrics })
    await marker.markNeeded()
    t.same(restarted.marked, [ScheduleType.DETECT_KERNEL_TERMINATION], 'set at start-up')
    t.same(await s.persistence.scheduleMarkNeeds.pending(), [])
  })

  await t.test('a sweep writes its events in its transaction: one per termination, then sweep.finished', async (t) => {
    const [k1, k2, alive] = [kernel(), kernel(), kernel()]
    const s = await setup(t, dead(k1, k2))
    for (const k of [k1, k2, alive]) await s.persistence.kernels.upsert(k)
    const dry = await s.coordinator.processKernelSchedule(s.handler, 'default', { dryRun: true })
    const sweep = await s.coordinator.processKernelSchedule(s.handler, 'default')
    const events = (await s.persistence.events.page({ after: null, types: null, limit: 100 })) ?? []
    t.same(events.map((event) => event.type), ['sweep.finished', 'kernel.terminated', 'kernel.terminated', 'sweep.finished'],
      'a dry run writes only its sweep.finished; a real sweep its terminations, then its sweep.finished')
    t.equal(events[0]?.subject, dry.sweepId)
    t.same(events.slice(1, 3).map((event) => event.subject).sort(), [k1.id, k2.id].sort())
    t.equal(events[3]?.subject, sweep.sweepId)
    t.match(events?.at(-1)?.data, { sweep_id: sweep.sweepId, outcome: 'completed', kernels: 3, failures: 2, terminated: 2, skipped: 0 })
  })

  await t.test('a mark still pending at shutdown gets one last attempt', async (t) => {
    const k1 = kernel()
    const s = await setup(t, dead(k1))
    await s.persistence.kernels.upsert(k1)
    s.marks.failing = true
    await s.coordinator.processKernelSchedule(s.handler, 'default')
    s.marks.failing = false
    await s.coordinator.close(0)
    t.same(s.marks.marked, [ScheduleType.DETECT_KERNEL_TERMINATION])
  })

  await t.test('shutdown: a sweep still running after the grace is stopped before it writes', async (t) => {
    const k1 = kernel()
    let release: () => void = () => {}
    const s = await setup(t, async (kernels) => {
      await new Promise<void>((resolve) => { release = resolve })
      return staleCheck(kernels.map((k) => k.id))
    })
    await s.persistence.kernels.upsert(k1)
    const sweeping = s.coordinator.processKernelSchedule(s.handler, 'default').catch((error: unknown) => error)
    while (s.terminatorCalls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const closing = s.coordinator.close(50)
    await new Promise((resolve) => setTimeout(resolve, 100))
    release()
    await closing
    const failure = await sweeping as SweepFailedError
    t.type(failure.cause, ShuttingDownError)
    t.equal((await s.persistence.kernels.get(k1.id))?.status, 'RUNNING', 'nothing written')
    await t.rejects(s.coordinator.processKernelSchedule(s.handler, 'default'), ShuttingDownError, 'no new sweeps')
  })

  await t.test('shutdown: a sweep that finishes within the grace completes', async (t) => {
    const k1 = kernel()
    const s = await setup(t, async (kernels) => {
      await new Promise((resolve) => setTimeout(resolve, 50))
      return staleCheck(kernels.map((k) => k.id))
    })
    await s.persistence.kernels.upsert(k1)
    const sweeping = s.coordinator.processKernelSchedule(s.handler, 'default')
    while (s.terminatorCalls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    await s.coordinator.close(5_000)
    t.same((await sweeping).terminated, [k1.id])
  })

  await t.test('sweepIfDue: skipped when the group was swept within the period', async (t) => {
    const s = await setup(t, dead())
    await s.persistence.kernels.upsert(kernel())
    t.not(await s.coordinator.sweepIfDue(s.handler, 'default', 60_000), null, 'never swept: due')
    t.equal(await s.coordinator.sweepIfDue(s.handler, 'default', 60_000), null, 'just swept: not due')
    t.not(await s.coordinator.sweepIfDue(s.handler, 'default', 0), null, 'a zero period is always due')
    t.equal(s.locks.released, 3, 'the lock is released either way')
  })

  await t.test('a background pass sweeps every group with RUNNING kernels, skips busy ones, and stops when asked', async (t) => {
    const s = await setup(t, dead())
    await s.persistence.kernels.upsertMany([kernel({ scalingGroup: 'g1' }), kernel({ scalingGroup: 'g2' }), kernel({ scalingGroup: 'g3', status: KernelStatus.TERMINATED })])
    const pass = backgroundSweep({ coordinator: s.coordinator, handler: s.handler, kernels: s.persistence.kernels, metrics: s.metrics, intervalMs: 60_000, logger: s.logger })
    await pass(new AbortController().signal)
    t.same(s.locks.acquired.map((lock) => lock.scope), ['g1', 'g2'])
    await pass(new AbortController().signal)
    t.equal(s.locks.acquired.length, 4, 'the lock is taken again')
    t.equal((await s.persistence.sweeps.list({ limit: 10 })).length, 2, 'but nothing is swept twice in one period')
    s.locks.busy = true
    await pass(new AbortController().signal)
    t.match(s.logger.at('debug').find((e) => e.message === 'group busy; skipped this tick'), { fields: { scaling_group: 'g1' } })
    s.locks.busy = false
    const stopped = new AbortController()
    stopped.abort()
    const before = s.locks.acquired.length
    await pass(stopped.signal)
    t.equal(s.locks.acquired.length, before, 'a stopped pass sweeps nothing')
  })

  await t.test('a group that emptied loses its last-successful-sweep series; it comes back with its next sweep', async (t) => {
    const k1 = kernel({ scalingGroup: 'g1' })
    const s = await setup(t, dead(k1))
    await s.persistence.kernels.upsertMany([k1, kernel({ scalingGroup: 'g2' })])
    const pass = backgroundSweep({ coordinator: s.coordinator, handler: s.handler, kernels: s.persistence.kernels, metrics: s.metrics, intervalMs: 60_000, logger: s.logger })
    const swept = async (): Promise<string[]> =>
      (await s.metrics.lastSuccessfulSweep.get()).values.map((value) => String(value.labels['scaling_group'])).sort()
    await pass(new AbortController().signal)
    t.same(await swept(), ['g1', 'g2'])
    // Every kernel of g1 is dead: the pass terminates them, and g1 has nothing RUNNING left.
    t.equal((await s.persistence.kernels.get(k1.id))?.status, KernelStatus.TERMINATED)
    await pass(new AbortController().signal)
    t.same(await swept(), ['g2'], 'g1 is not swept any more, so it is no longer reported as unswept')
    await s.persistence.kernels.upsert(kernel({ scalingGroup: 'g1' }))
    await s.coordinator.processKernelSchedule(s.handler, 'g1')
    t.same(await swept(), ['g1', 'g2'], 'a completed sweep of g1 reports it again')
  })

  await t.test('old sweep records are pruned', async (t) => {
    const s = await setup(t, dead())
    await s.persistence.kernels.upsert(kernel())
    const old = await s.coordinator.processKernelSchedule(s.handler, 'default')
    await s.persistence.db.query("UPDATE sweeps SET finished_at = now() - interval '2 hours'")
    const fresh = await s.coordinator.processKernelSchedule(s.handler, 'default', { dryRun: true })
    await pruneOlderThan('sweep records', (before) => s.persistence.sweeps.pruneFinishedBefore(before), 3_600_000, s.logger)()
    t.equal(await s.persistence.sweeps.get(old.sweepId), null)
    t.not(await s.persistence.sweeps.get(fresh.sweepId), null)
    t.match(s.logger.at('info').find((e) => e.message === 'old sweep records pruned'), { fields: { pruned: 1 } })
  })
})
