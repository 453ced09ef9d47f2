import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { KernelInfo } from '../../src/domain/kernel-info.js'
import { KernelStatus } from '../../src/domain/kernel-status.js'
import { SkipCause } from '../../src/domain/results.js'
import { SweepOutcome, type SweepRecord } from '../../src/domain/sweep.js'
import type { Database } from '../../src/persistence/database.js'
import { InvalidCursorError } from '../../src/persistence/cursor.js'
import { BulkUpsertError, MAX_BULK_KERNELS, PreconditionFailedError } from '../../src/persistence/kernel-repository.js'
import { KERNEL_HANDLER_FAILURE_REASON } from '../../src/persistence/kernel-state-engine.js'
import { InProcessLockFactory } from '../../src/persistence/locks/in-process-lock-factory.js'
import { persistenceOver, type Persistence } from '../../src/persistence/persistence.js'
import type { AgentListQuery } from '../../src/persistence/agent-repository.js'
import { AgentStatus } from '../../src/domain/agent.js'

const { RUNNING, TERMINATED, TERMINATING, PENDING } = KernelStatus

/** A kernel as a handler reads it right after it was created (version 1). */
export function kernel (overrides: Partial<KernelInfo> = {}): KernelInfo {
  return { id: randomUUID(), sessionId: randomUUID(), agentId: 'a1', scalingGroup: 'default', status: RUNNING, version: 1, ...overrides }
}

async function count (db: Database, table: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)
  return row!.n
}

async function databaseNow (db: Database): Promise<Date> {
  const [row] = await db.query<{ now: Date }>('SELECT now() AS now')
  return row!.now
}

function sweepRecord (overrides: Partial<SweepRecord> = {}): SweepRecord {
  return {
    sweepId: randomUUID(),
    scalingGroup: 'default',
    handler: 'sweep-stale-kernels',
    dryRun: false,
    forced: false,
    outcome: SweepOutcome.COMPLETED,
    startedAt: new Date('2026-11-27T10:00:00.000Z'),
    finishedAt: new Date('2026-11-27T10:00:01.250Z'),
    result: { successes: [], failures: [], skipped: [] },
    terminated: [],
    error: null,
    ...overrides,
  }
}

/**
 * What every database the service runs on must do, run against real Postgres and embedded
 * PGlite alike. `open` gives a migrated database; the suite empties it before each test.
 */
export async function persistenceContract (t: Test, open: () => Promise<Database>): Promise<void> {
  const db = await open()
  const p: Persistence = persistenceOver(db, new InProcessLockFactory(db))
  const ids = async (query: Omit<AgentListQuery, 'limit'>, limit = 100): Promise<string[]> =>
    (await p.agents.list({ limit, ...query })).items.map((a) => a.id)
  t.beforeEach(async () => {
    await db.query('TRUNCATE kernels, agents, kernel_status_history, sweeps, kernel_confirmations')
  })

  await t.test('upsert creates a kernel, with no history row', async (t) => {
    const k = kernel({ agentId: null })
    const before = await databaseNow(db)
    const created = await p.kernels.upsert(k)
    t.match(created, { ...k, statusInfo: null, terminatedAt: null })
    t.ok(created.statusChangedAt >= before && created.createdAt >= before, 'stamped by the database')
    t.same(await p.kernels.get(k.id), created)
    t.same(await p.history.listForKernel(k.id), [])
  })

  await t.test('a status change through upsert writes one history row; the same status writes none', async (t) => {
    const k = kernel()
    const created = await p.kernels.upsert(k)
    await p.kernels.upsert({ ...k, agentId: 'a2' })
    t.same(await p.history.listForKernel(k.id), [], 'no status change, no row')
    t.same((await p.kernels.get(k.id))?.statusChangedAt, created.statusChangedAt)

    const replaced = await p.kernels.upsert({ ...k, status: TERMINATING, scalingGroup: 'other' })
    t.equal(replaced.status, TERMINATING)
    t.equal(replaced.scalingGroup, 'other')
    t.ok(replaced.statusChangedAt >= created.statusChangedAt)
    t.equal(replaced.terminatedAt, null)
    const history = await p.history.listForKernel(k.id)
    t.equal(history.length, 1)
    t.match(history[0], { kernelId: k.id, fromStatus: RUNNING, toStatus: TERMINATING, reason: null, sweepId: null })

    const terminated = await p.kernels.upsert({ ...k, status: TERMINATED })
    t.type(terminated.terminatedAt, Date, 'terminated_at set when it becomes TERMINATED')
    t.same((await p.history.listForKernel(k.id)).map((h) => h.toStatus), [TERMINATING, TERMINATED], 'oldest first')
  })

  await t.test('versions: 1 at creation, unchanged by an identical upsert, +1 on every change', async (t) => {
    const k = kernel()
    t.equal((await p.kernels.upsert(k)).version, 1)
    t.equal((await p.kernels.upsert(k)).version, 1, 'nothing changed')
    t.equal((await p.kernels.upsert({ ...k, agentId: 'a2' })).version, 2, 'another agent')
    t.equal((await p.kernels.upsert({ ...k, agentId: 'a2', status: TERMINATING })).version, 3, 'another status')
    t.equal((await p.kernels.upsert({ ...k, agentId: 'a2', status: TERMINATING, sessionId: randomUUID() })).version, 4, 'another session')
    await p.kernels.upsertMany([{ ...k, agentId: 'a2', status: RUNNING, scalingGroup: 'g2' }])
    t.equal((await p.kernels.get(k.id))?.version, 5, 'bulk too')
    t.same(await p.kernels.searchKernelsForHandler('g2', [RUNNING]), [{ ...k, agentId: 'a2', scalingGroup: 'g2', version: 5 }], 'handlers read it')
  })

  await t.test('preconditions: replaced only at an expected version, else nothing is written', async (t) => {
    const [k1, k2] = [kernel(), kernel()]
    await p.kernels.upsertMany([k1, k2])
    t.equal((await p.kernels.upsert({ ...k1, status: TERMINATING, expectedVersions: [1] })).version, 2)
    await t.rejects(p.kernels.upsert({ ...k1, status: RUNNING, expectedVersions: [1] }), PreconditionFailedError, 'stale version')
    t.equal((await p.kernels.get(k1.id))?.status, TERMINATING, 'not written')
    t.equal((await p.kernels.upsert({ ...k1, status: RUNNING, expectedVersions: [1, 2] })).version, 3, 'any of a list')
    t.equal((await p.kernels.upsert({ ...k1, status: TERMINATING, expectedVersions: 'exists' })).version, 4, "'exists' takes any version")

    const missing = kernel()
    await t.rejects(p.kernels.upsert({ ...missing, expectedVersions: 'exists' }), PreconditionFailedError)
    await t.rejects(p.kernels.upsert({ ...missing, expectedVersions: [1] }), PreconditionFailedError)
    t.equal(await p.kernels.get(missing.id), null, 'a conditional entry never creates a kernel')

    const fresh = kernel()
    await t.rejects(p.kernels.upsertMany([
      { ...k2, status: TERMINATED, expectedVersions: [1] }, fresh, { ...k1, agentId: 'a9', expectedVersions: [1] },
    ]), PreconditionFailedError, 'one stale entry fails the request')
    t.match(await p.kernels.get(k2.id), { status: RUNNING, version: 1 }, 'all or nothing: the matching entry is not written')
    t.equal(await p.kernels.get(fresh.id), null, 'nor is the new one created')
    t.equal((await p.history.listForKernel(k2.id)).length, 0)
  })

  await t.test('a termination applies only at the version read, and raises it', async (t) => {
    const [moved, restarted, untouched] = [kernel(), kernel(), kernel()]
    await p.kernels.upsertMany([moved, restarted, untouched])
    await p.kernels.upsert({ ...moved, agentId: 'a2' })
    await p.kernels.upsert({ ...restarted, status: KernelStatus.RESTARTING })
    await p.kernels.upsert(restarted)
    const changed = await p.stateEngine.markKernelsTerminated([moved, restarted, untouched].map((k) => ({
      kernelId: k.id, reason: 'STALE_KERNEL', fromStatus: RUNNING, expectedVersion: 1,
    })), { sweepId: randomUUID() })
    t.same(changed, [untouched.id], 'the moved and the restarted kernels are left alone')
    t.match(await p.kernels.get(restarted.id), { status: RUNNING, version: 3 })
    t.match(await p.kernels.get(untouched.id), { status: TERMINATED, version: 2 })
  })

  await t.test('confirmation counts: read back by kernel, replaced per group, reset when not carried', async (t) => {
    const [k1, k2, k3] = [kernel(), kernel(), kernel({ scalingGroup: 'other' })]
    await p.kernels.upsertMany([k1, k2, k3])
    await p.confirmations.replaceGroup('default', [{ kernelId: k1.id, kernelVersion: 1, count: 1 }, { kernelId: k2.id, kernelVersion: 1, count: 2 }])
    await p.confirmations.replaceGroup('other', [{ kernelId: k3.id, kernelVersion: 1, count: 1 }])
    t.same(await p.confirmations.countsFor([k1.id, k2.id, k3.id, randomUUID()]), new Map([
      [k1.id, { kernelVersion: 1, count: 1 }], [k2.id, { kernelVersion: 1, count: 2 }], [k3.id, { kernelVersion: 1, count: 1 }],
    ]))
    await db.transaction((tx) => p.confirmations.within(tx).replaceGroup('default', [{ kernelId: k2.id, kernelVersion: 1, count: 3 }]))
    t.same(await p.confirmations.countsFor([k1.id, k2.id, k3.id]), new Map([
      [k2.id, { kernelVersion: 1, count: 3 }], [k3.id, { kernelVersion: 1, count: 1 }],
    ]), "k1 reset; another group's counts untouched")
    await p.confirmations.replaceGroup('default', [])
    t.same(await p.confirmations.countsFor([k1.id, k2.id]), new Map())
    t.same(await p.confirmations.countsFor([]), new Map())
  })

  await t.test('get of an unknown kernel is null', async (t) => {
    t.equal(await p.kernels.get(randomUUID()), null)
  })

  await t.test('list filters and pages by keyset, with an opaque cursor', async (t) => {
    const mine = Array.from({ length: 7 }, () => kernel({ scalingGroup: 'g1' }))
    await p.kernels.upsertMany([...mine, kernel({ scalingGroup: 'g2' }), kernel({ scalingGroup: 'g1', status: PENDING })])
    const expected = mine.map((k) => k.id).sort()

    const seen: string[] = []
    let cursor: string | undefined
    const pageSizes: number[] = []
    do {
      const page = await p.kernels.list({ scalingGroup: 'g1', status: RUNNING, limit: 3, ...(cursor === undefined ? {} : { cursor }) })
      pageSizes.push(page.items.length)
      seen.push(...page.items.map((item) => item.id))
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    t.same(pageSizes, [3, 3, 1])
    t.same(seen, expected, 'every kernel once, in id order')
    t.equal((await p.kernels.list({ limit: 100 })).items.length, 9, 'no filter: everything')
    t.equal((await p.kernels.list({ status: PENDING, limit: 100 })).items.length, 1)
    t.equal((await p.kernels.list({ limit: 9 })).nextCursor, null, 'an exact last page has no next cursor')
    await t.rejects(p.kernels.list({ limit: 3, cursor: 'bm90LWEtdXVpZA' }), InvalidCursorError)
    await t.rejects(p.kernels.list({ limit: 3, cursor: "'; DROP TABLE kernels; --" }), InvalidCursorError)
  })

  await t.test('searchKernelsForHandler: the group\'s kernels in the given statuses, in id order', async (t) => {
    const running = Array.from({ length: 5 }, () => kernel({ scalingGroup: 'g1' }))
    await p.kernels.upsertMany([
      ...running,
      kernel({ scalingGroup: 'g1', status: TERMINATED }),
      kernel({ scalingGroup: 'g2' }),
    ])
    const found = await p.kernels.searchKernelsForHandler('g1', [RUNNING])
    t.same(found, running.toSorted((a, b) => a.id.localeCompare(b.id)))
    t.same(await p.kernels.searchKernelsForHandler('nobody', [RUNNING]), [])
  })

  await t.test(`bulk upsert takes ${MAX_BULK_KERNELS} kernels in one statement`, async (t) => {
    const kernels = Array.from({ length: MAX_BULK_KERNELS }, (_, i) => kernel({ agentId: i % 2 === 0 ? 'a1' : null }))
    t.equal(await p.kernels.upsertMany(kernels), MAX_BULK_KERNELS)
    t.equal(await count(db, 'kernels'), MAX_BULK_KERNELS)
    t.equal(await count(db, 'kernel_status_history'), 0)
  })

  await t.test('bulk upsert is all or nothing', async (t) => {
    const existing = kernel()
    await p.kernels.upsert(existing)
    const tooMany = Array.from({ length: MAX_BULK_KERNELS + 1 }, () => kernel())
    await t.rejects(p.kernels.upsertMany(tooMany), BulkUpsertError)
    const twice = kernel()
    await t.rejects(p.kernels.upsertMany([twice, kernel(), twice]), BulkUpsertError)
    // A row the database itself refuses takes the whole batch down with it.
    const refused = { ...kernel(), status: 'BOGUS' as KernelInfo['status'] }
    await t.rejects(p.kernels.upsertMany([kernel(), { ...existing, status: TERMINATING }, refused]))
    t.equal(await count(db, 'kernels'), 1, 'nothing new written')
    t.equal((await p.kernels.get(existing.id))?.status, RUNNING, 'nothing changed')
    t.equal(await count(db, 'kernel_status_history'), 0)
  })

  await t.test('agents: register, re-register at a new address, get, list', async (t) => {
    const first = await p.agents.upsert({ id: 'a1', address: 'http://127.0.0.1:9101', scalingGroup: 'default' })
    t.match(first, { id: 'a1', address: 'http://127.0.0.1:9101', scalingGroup: 'default' })
    t.type(first.registeredAt, Date)
    const moved = await p.agents.upsert({ id: 'a1', address: 'http://127.0.0.1:9201', scalingGroup: 'default' })
    t.equal(moved.address, 'http://127.0.0.1:9201')
    await p.agents.upsert({ id: 'b1', address: 'https://agent.example:9101', scalingGroup: 'gpu' })
    t.same(await p.agents.get('a1'), moved)
    t.equal(await p.agents.get('nobody'), null)
    t.same(await ids({}), ['a1', 'b1'])
    t.same(await ids({ scalingGroup: 'gpu' }), ['b1'])
    const page = await p.agents.list({ limit: 1 })
    t.same(page.items.map((a) => a.id), ['a1'])
    t.same((await p.agents.list({ limit: 1, cursor: page.nextCursor! })).items.map((a) => a.id), ['b1'], 'paged by a cursor')
    await t.rejects(p.agents.list({ limit: 1, cursor: 'not/a/name' }), InvalidCursorError)
  })

  await t.test('agents: reachability (rule 12), lost (rule 13), decommissioned (rule 14), and registering again', async (t) => {
    for (const id of ['a1', 'a2', 'a3', 'a4']) await p.agents.upsert({ id, address: 'http://127.0.0.1:9101', scalingGroup: 'default' })
    t.same((await p.agents.get('a1'))?.status, AgentStatus.ALIVE, 'ALIVE when registered')
    await p.agents.recordReachability({ reached: ['a1'], unreachable: ['a2', 'a3'] })
    t.match(await p.agents.get('a1'), { status: AgentStatus.ALIVE, unreachableSince: null })
    t.type((await p.agents.get('a1'))?.lastReachedAt, Date)
    const since = (await p.agents.get('a2'))!.unreachableSince!
    t.equal((await p.agents.get('a2'))?.status, AgentStatus.UNREACHABLE)
    await p.agents.recordReachability({ reached: [], unreachable: ['a2'] })
    t.same((await p.agents.get('a2'))?.unreachableSince, since, 'the first moment it was unreachable is kept')
    // Lost once unreachable for longer than AGENT_LOST_AFTER_SEC (600 s here): moved back in time.
    await db.query("UPDATE agents SET unreachable_since = now() - interval '601 seconds' WHERE id = 'a3'")
    t.equal((await p.agents.get('a3'))?.status, AgentStatus.LOST)
    t.same(await p.agents.statusesOf(['a1', 'a2', 'a3', 'a4', 'nobody']), new Map([
      ['a1', AgentStatus.ALIVE], ['a2', AgentStatus.UNREACHABLE], ['a3', AgentStatus.LOST], ['a4', AgentStatus.ALIVE],
    ]))
    t.same(await ids({ status: AgentStatus.LOST }), ['a3'])
    const never = persistenceOver(db, new InProcessLockFactory(db), { agentLostAfterSec: 0 })
    t.equal((await never.agents.get('a3'))?.status, AgentStatus.UNREACHABLE, 'AGENT_LOST_AFTER_SEC=0: never LOST')

    await db.transaction((tx) => p.agents.within(tx).markDecommissioned(['a4']))
    t.equal((await p.agents.get('a4'))?.status, AgentStatus.DECOMMISSIONED)
    await p.agents.recordReachability({ reached: ['a4'], unreachable: [] })
    t.equal((await p.agents.get('a4'))?.status, AgentStatus.DECOMMISSIONED, 'until registered again')
    t.match(await p.agents.upsert({ id: 'a4', address: 'http://127.0.0.1:9102', scalingGroup: 'default' }), { status: AgentStatus.ALIVE, decommissionedAt: null })
    t.match(await p.agents.upsert({ id: 'a3', address: 'http://127.0.0.1:9103', scalingGroup: 'default' }), { status: AgentStatus.ALIVE, unreachableSince: null }, 'registering again clears reachability')
  })

  await t.test('markKernelsTerminated: conditional, one history row each, stamped by the database', async (t) => {
    const [k1, k2, k3, k4] = [kernel(), kernel(), kernel(), kernel({ status: TERMINATING })]
    await p.kernels.upsertMany([k1, k2, k3, k4])
    const sweepId = randomUUID()
    const before = await databaseNow(db)

    const changed = await p.stateEngine.markKernelsTerminated([
      { kernelId: k3.id, reason: 'STALE_KERNEL', fromStatus: RUNNING, expectedVersion: 1 },
      { kernelId: k1.id, reason: null, fromStatus: RUNNING, expectedVersion: 1 },
      { kernelId: k4.id, reason: 'STALE_KERNEL', fromStatus: RUNNING, expectedVersion: 1 },
      { kernelId: randomUUID(), reason: 'STALE_KERNEL', fromStatus: RUNNING, expectedVersion: 1 },
      { kernelId: k3.id, reason: 'STALE_KERNEL', fromStatus: RUNNING, expectedVersion: 1 },
    ], { sweepId })

    t.same(changed, [k3.id, k1.id], 'the ids actually changed, in request order, once each')
    const after3 = await p.kernels.get(k3.id)
    t.match(after3, { status: TERMINATED, statusInfo: 'STALE_KERNEL', version: 2 })
    t.ok(after3!.terminatedAt! >= before && after3!.statusChangedAt.getTime() === after3!.terminatedAt!.getTime())
    t.equal((await p.kernels.get(k1.id))?.statusInfo, KERNEL_HANDLER_FAILURE_REASON, 'fallback reason')
    t.equal((await p.kernels.get(k2.id))?.status, RUNNING, 'not asked, not touched')
    t.equal((await p.kernels.get(k4.id))?.status, TERMINATING, 'status moved on: left alone')
    t.same(await p.history.listForKernel(k4.id), [])
    const history = await p.history.listForKernel(k3.id)
    t.equal(history.length, 1)
    t.match(history[0], { fromStatus: RUNNING, toStatus: TERMINATED, reason: 'STALE_KERNEL', sweepId })
    t.equal(await count(db, 'kernel_status_history'), 2)
    t.same(await p.stateEngine.markKernelsTerminated([], { sweepId }), [])
  })

  await t.test('markKernelTerminated: one kernel, true only when it changed', async (t) => {
    const k = kernel()
    await p.kernels.upsert(k)
    const request = { kernelId: k.id, reason: 'STALE_KERNEL', fromStatus: RUNNING, expectedVersion: 1 }
    t.equal(await p.stateEngine.markKernelTerminated(request, { sweepId: null }), true)
    t.equal(await p.stateEngine.markKernelTerminated(request, { sweepId: null }), false)
    t.equal((await p.history.listForKernel(k.id)).length, 1)
  })

  await t.test('10,000 kernels are terminated in one call', async (t) => {
    const kernels = Array.from({ length: 10_000 }, () => kernel())
    await p.kernels.upsertMany(kernels)
    const changed = await p.stateEngine.markKernelsTerminated(
      kernels.map((k) => ({ kernelId: k.id, reason: 'STALE_KERNEL', fromStatus: RUNNING, expectedVersion: 1 })), { sweepId: randomUUID() }
    )
    t.equal(changed.length, 10_000)
    t.equal(await count(db, 'kernel_status_history'), 10_000)
    t.same(await p.kernels.searchKernelsForHandler('default', [RUNNING]), [])
  })

  await t.test('sweeps: recorded and read back as they were, newest first', async (t) => {
    const [k1, k2, k3, k4, k5] = Array.from({ length: 5 }, () => randomUUID())
    const full = sweepRecord({
      result: {
        successes: [
          { kernelId: k1!, fromStatus: RUNNING, reason: null },
          { kernelId: k2!, fromStatus: RUNNING, reason: null },
          { kernelId: k5!, fromStatus: PENDING, reason: null },
        ],
        failures: [
          { kernelId: k3!, fromStatus: RUNNING, reason: 'STALE_KERNEL' },
          { kernelId: k4!, fromStatus: RUNNING, reason: null },
        ],
        skipped: [
          { kernelId: k1!, cause: SkipCause.AWAITING_CONFIRMATION, confirmations: 2 },
          { kernelId: k2!, cause: SkipCause.AGENT_TIMEOUT },
          { kernelId: k5!, cause: SkipCause.NO_AGENT },
        ],
      },
      terminated: [k3!],
    })
    await p.sweeps.record(full)
    t.same(await p.sweeps.get(full.sweepId), full)
    t.equal(await p.sweeps.get(randomUUID()), null)

    const failed = sweepRecord({ outcome: SweepOutcome.FAILED, error: 'presence store unavailable', startedAt: new Date('2026-11-27T11:00:00Z'), finishedAt: new Date('2026-11-27T11:00:00Z') })
    const other = sweepRecord({ scalingGroup: 'gpu', dryRun: true, forced: true, outcome: SweepOutcome.DRY_RUN, startedAt: new Date('2026-11-27T12:00:00Z'), finishedAt: new Date('2026-11-27T12:00:02Z') })
    await p.sweeps.record(failed)
    await p.sweeps.record(other)
    t.same((await p.sweeps.list({ limit: 10 })).map((s) => s.sweepId), [other.sweepId, failed.sweepId, full.sweepId])
    t.same((await p.sweeps.list({ limit: 1 })).map((s) => s.sweepId), [other.sweepId])
    t.same((await p.sweeps.list({ scalingGroup: 'default', limit: 10 })).map((s) => s.sweepId), [failed.sweepId, full.sweepId])
    t.same(await p.sweeps.get(failed.sweepId), failed)

    t.equal(await p.sweeps.pruneFinishedBefore(new Date('2026-11-27T11:30:00Z')), 2)
    t.same((await p.sweeps.list({ limit: 10 })).map((s) => s.sweepId), [other.sweepId])
  })

  await t.test('a sweep record grows by a few bytes per kernel', async (t) => {
    const successes = Array.from({ length: 10_000 }, () => ({ kernelId: randomUUID(), fromStatus: RUNNING, reason: null }))
    const sweep = sweepRecord({ result: { successes, failures: [], skipped: [] } })
    await p.sweeps.record(sweep)
    const [row] = await db.query<{ bytes: number }>('SELECT pg_column_size(s.*)::int AS bytes FROM sweeps s WHERE id = $1', [sweep.sweepId])
    const perKernel = row!.bytes / successes.length
    t.ok(perKernel <= 17, `${perKernel.toFixed(2)} bytes per kernel (a uuid is 16)`)
    t.same((await p.sweeps.get(sweep.sweepId))?.result.successes, successes)
  })
}
