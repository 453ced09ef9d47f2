import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { HandlerKernel, KernelInfo } from '../../src/domain/kernel-info.js'
import { KernelStatus } from '../../src/domain/kernel-status.js'
import { ScheduleType } from '../../src/domain/schedule-type.js'
import { SkipCause } from '../../src/domain/results.js'
import { SweepOutcome, type SweepRecord } from '../../src/domain/sweep.js'
import type { Database } from '../../src/persistence/database.js'
import { EventType, type LoggedEvent, type SweepSummary } from '../../src/domain/events.js'
import { InvalidCursorError } from '../../src/persistence/cursor.js'
import { BulkUpsertError, MAX_BULK_KERNELS, PreconditionFailedError } from '../../src/persistence/kernel-repository.js'
import { KERNEL_HANDLER_FAILURE_REASON } from '../../src/persistence/kernel-state-engine.js'
import { InProcessLockFactory } from '../../src/persistence/locks/in-process-lock-factory.js'
import { persistenceOver, type Persistence } from '../../src/persistence/persistence.js'
import type { AgentListQuery } from '../../src/persistence/agent-repository.js'
import { AgentStatus } from '../../src/domain/agent.js'

const { RUNNING, TERMINATED, TERMINATING, PENDING } = KernelStatus

/** A kernel as a handler reads it right after it was created (version 1). */
/** What a handler reads of a kernel. */
const handlerView = ({ id, agentId, status, version }: KernelInfo): HandlerKernel => ({ id, agentId, status, version })

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

/** A record with its successes as an array, whatever form the repository keeps them in. */
function plain (sweep: SweepRecord | null): unknown {
  return sweep === null ? null : { ...sweep, result: { ...sweep.result, successes: [...sweep.result.successes] } }
}

/** A recorded sweep's summary, as its sweep.finished reports it. */
export function sweepSummary (overrides: Partial<SweepSummary> = {}): SweepSummary {
  return {
    sweepId: randomUUID(),
    scalingGroup: 'default',
    handler: 'sweep-stale-kernels',
    outcome: SweepOutcome.COMPLETED,
    dryRun: false,
    forced: false,
    kernels: 0,
    failures: 0,
    terminated: 0,
    skipped: 0,
    ...overrides,
  }
}

/** The contract's `sweep.finished` data of a summary. */
function finishedData (sweep: SweepSummary): Record<string, unknown> {
  return {
    sweep_id: sweep.sweepId,
    scaling_group: sweep.scalingGroup,
    handler: sweep.handler,
    outcome: sweep.outcome,
    dry_run: sweep.dryRun,
    forced: sweep.forced,
    kernels: sweep.kernels,
    failures: sweep.failures,
    terminated: sweep.terminated,
    skipped: sweep.skipped,
  }
}

/** Events without their time, to compare with what was written. */
function untimed (events: readonly LoggedEvent[] | null): unknown {
  return events?.map(({ time: _time, ...event }) => event) ?? null
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
    await db.query('TRUNCATE kernels, agents, kernel_status_history, sweeps, kernel_confirmations, events, schedule_mark_needs')
    await db.query('UPDATE event_counter SET last_id = 0, pruned_through = 0')
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
    t.same(await p.kernels.searchKernelsForHandler('g2', [RUNNING]).all(), [handlerView({ ...k, agentId: 'a2', version: 5 })], 'handlers read it')
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
    const found = await p.kernels.searchKernelsForHandler('g1', [RUNNING]).all()
    t.same(found, running.toSorted((a, b) => a.id.localeCompare(b.id)).map(handlerView), 'id, agent, status and version: no more')
    t.same(await p.kernels.searchKernelsForHandler('nobody', [RUNNING]).all(), [])
  })

  await t.test('searchKernelsForHandler: a large group comes in several pages, together every kernel once in id order', async (t) => {
    const kernels = Array.from({ length: 12_000 }, () => kernel({ scalingGroup: 'paged' }))
    await p.kernels.upsertMany(kernels.slice(0, MAX_BULK_KERNELS))
    await p.kernels.upsertMany(kernels.slice(MAX_BULK_KERNELS))
    const pages: Array<readonly HandlerKernel[]> = []
    for await (const page of p.kernels.searchKernelsForHandler('paged', [RUNNING])) pages.push(page)
    t.ok(pages.length >= 2, `${pages.length} pages`)
    t.same(pages.flat().map((k) => k.id), kernels.map((k) => k.id).toSorted())
  })

  await t.test('pages: a statement\'s rows, pageSize at a time; leaving early frees the connection; a failure fails the read', async (t) => {
    const pagesOf = async (sql: string, params: readonly unknown[], pageSize: number): Promise<number[][]> => {
      const pages: number[][] = []
      for await (const page of db.pages<{ n: number }>(sql, params, pageSize)) pages.push(page.map((row) => row.n))
      return pages
    }
    const series = 'SELECT n FROM generate_series(1, $1::int) AS n ORDER BY n'
    t.same(await pagesOf(series, [7], 3), [[1, 2, 3], [4, 5, 6], [7]])
    t.same(await pagesOf(series, [6], 3), [[1, 2, 3], [4, 5, 6]], 'an exact last page, and no empty one after it')
    t.same(await pagesOf(series, [0], 3), [], 'no rows: no page')
    // More early exits than the pool has connections: one kept each time would starve the pool.
    for (let i = 0; i < 12; i++) {
      const reader = db.pages(series, [100], 10)[Symbol.asyncIterator]()
      await reader.next()
      await reader.return?.()
    }
    t.same(await db.query<{ one: number }>('SELECT 1 AS one'), [{ one: 1 }], 'the database still answers')
    await t.rejects(pagesOf('SELECT 1 / (n - 5) AS n FROM generate_series(1, 10) AS n', [], 2), /division by zero/)
    t.same(await db.query<{ one: number }>('SELECT 1 AS one'), [{ one: 1 }], 'and after a failed read too')
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
    t.same(await p.agents.addressesOf(['a1', 'b1', 'nobody']), new Map([['a1', 'http://127.0.0.1:9201'], ['b1', 'https://agent.example:9101']]),
      'addresses of many agents at once; an unknown one absent')
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
    t.same(await p.kernels.searchKernelsForHandler('default', [RUNNING]).all(), [])
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
    t.same(plain(await p.sweeps.get(full.sweepId)), full)
    t.equal(await p.sweeps.get(randomUUID()), null)

    const failed = sweepRecord({ outcome: SweepOutcome.FAILED, error: 'presence store unavailable', startedAt: new Date('2026-11-27T11:00:00Z'), finishedAt: new Date('2026-11-27T11:00:00Z') })
    const other = sweepRecord({ scalingGroup: 'gpu', dryRun: true, forced: true, outcome: SweepOutcome.DRY_RUN, startedAt: new Date('2026-11-27T12:00:00Z'), finishedAt: new Date('2026-11-27T12:00:02Z') })
    await p.sweeps.record(failed)
    await p.sweeps.record(other)
    t.same((await p.sweeps.list({ limit: 10 })).map((s) => s.sweepId), [other.sweepId, failed.sweepId, full.sweepId])
    t.same((await p.sweeps.list({ limit: 1 })).map((s) => s.sweepId), [other.sweepId])
    t.same((await p.sweeps.list({ scalingGroup: 'default', limit: 10 })).map((s) => s.sweepId), [failed.sweepId, full.sweepId])
    t.same(plain(await p.sweeps.get(failed.sweepId)), failed)

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
    t.same([...(await p.sweeps.get(sweep.sweepId))!.result.successes], successes)
  })

  /** One sweep's write: its kernels terminated and its events, in one transaction as the coordinator does. */
  const sweepWrites = (sweep: SweepSummary, kernels: readonly KernelInfo[], decommissioned: readonly string[] = [], reason = 'STALE_KERNEL') =>
    db.transaction(async (tx) => {
      await p.stateEngine.within(tx).markKernelsTerminated(kernels.map((k) => ({
        kernelId: k.id, reason, fromStatus: k.status, expectedVersion: k.version,
      })), { sweepId: sweep.sweepId })
      await p.events.within(tx).appendSweepEvents(sweep, decommissioned)
    })
  const eventIds = async (after: string | null, types: readonly EventType[] | null = null, limit = 100): Promise<string[] | null> =>
    (await p.events.page({ after, types, limit }))?.map((event) => event.id) ?? null

  await t.test('schedule mark needs: committed with the transaction, cleared only at the generation met', async (t) => {
    const type = ScheduleType.DETECT_KERNEL_TERMINATION
    await t.rejects(db.transaction(async (tx) => {
      await p.scheduleMarkNeeds.within(tx).need([type])
      throw new Error('the sweep rolls back')
    }))
    t.same(await p.scheduleMarkNeeds.pending(), [], 'no need without the terminations')
    await db.transaction((tx) => p.scheduleMarkNeeds.within(tx).need([type]))
    const [first] = await p.scheduleMarkNeeds.pending()
    t.match(first, { type })
    await p.scheduleMarkNeeds.need([type]) // another sweep needs it while the first mark is being set
    await p.scheduleMarkNeeds.clear([first!])
    t.equal((await p.scheduleMarkNeeds.pending()).length, 1, 'the newer need stays')
    await p.scheduleMarkNeeds.clear(await p.scheduleMarkNeeds.pending())
    t.same(await p.scheduleMarkNeeds.pending(), [])
  })

  await t.test('events: one kernel.terminated per transition of the sweep, its agent.decommissioned, then its sweep.finished', async (t) => {
    const [k1, k2, other] = [kernel({ agentId: 'a1' }), kernel({ agentId: 'a1', status: PENDING }), kernel()]
    await p.kernels.upsertMany([k1, k2, other])
    await p.stateEngine.markKernelsTerminated([{ kernelId: other.id, reason: 'STALE_KERNEL', fromStatus: RUNNING, expectedVersion: 1 }], { sweepId: randomUUID() })
    const sweep = sweepSummary({ handler: 'decommission-agent', forced: true, kernels: 2, failures: 2, terminated: 2 })
    const before = await databaseNow(db)
    await sweepWrites(sweep, [k1, k2], ['a1'], 'AGENT_DECOMMISSIONED')

    const events = (await p.events.page({ after: null, types: null, limit: 100 }))!
    t.same(events.map((event) => event.id), ['1', '2', '3', '4'], 'ids from 1, no gaps')
    const terminated = (k: KernelInfo) => ({
      type: EventType.KERNEL_TERMINATED,
      subject: k.id,
      data: {
        kernel_id: k.id,
        session_id: k.sessionId,
        scaling_group: 'default',
        agent_id: 'a1',
        from_status: k.status,
        reason: 'AGENT_DECOMMISSIONED',
        sweep_id: sweep.sweepId,
        version: 2,
      },
    })
    const bySubject = (a: { subject: string }, b: { subject: string }): number => a.subject.localeCompare(b.subject)
    t.same(events.slice(0, 2).map(({ id: _id, time: _time, ...event }) => event).sort(bySubject),
      [terminated(k1), terminated(k2)].sort(bySubject), "the sweep's own transitions only, with the version after the change")
    t.same(untimed(events.slice(2)), [
      { id: '3', type: EventType.AGENT_DECOMMISSIONED, subject: 'a1', data: { agent_id: 'a1', scaling_group: 'default', sweep_id: sweep.sweepId } },
      { id: '4', type: EventType.SWEEP_FINISHED, subject: sweep.sweepId, data: finishedData(sweep) },
    ])
    t.ok(events.every((event) => event.time instanceof Date && event.time >= before), 'stamped by the database')
    t.equal(await p.events.lastId(), '4')
  })

  await t.test('events: none from a transaction that rolls back, whose ids are given back; a dry run writes only its sweep.finished', async (t) => {
    t.equal(await p.events.lastId(), '0', 'none yet')
    const k = kernel()
    await p.kernels.upsert(k)
    await t.rejects(db.transaction(async (tx) => {
      await p.events.within(tx).appendSweepEvents(sweepSummary(), [])
      throw new Error('crashed before the commit')
    }), /crashed/)
    t.equal(await p.events.lastId(), '0')
    t.same(await eventIds(null), [])

    const dry = sweepSummary({ dryRun: true, outcome: SweepOutcome.DRY_RUN, kernels: 1, failures: 1 })
    await sweepWrites(dry, [])
    t.same(untimed(await p.events.page({ after: null, types: null, limit: 100 })), [
      { id: '1', type: EventType.SWEEP_FINISHED, subject: dry.sweepId, data: finishedData(dry) },
    ])
  })

  await t.test('events: paged after a cursor, oldest first, by type, with a limit', async (t) => {
    const kernels = [kernel(), kernel(), kernel()]
    await p.kernels.upsertMany(kernels)
    await sweepWrites(sweepSummary(), kernels.slice(0, 2)) // 1, 2 terminated; 3 finished
    await sweepWrites(sweepSummary(), []) // 4 finished
    await sweepWrites(sweepSummary(), kernels.slice(2), ['a1']) // 5 terminated; 6 decommissioned; 7 finished

    t.same(await eventIds(null, null, 3), ['1', '2', '3'])
    t.same(await eventIds('3', null, 3), ['4', '5', '6'])
    t.same(await eventIds('6', null, 3), ['7'])
    t.same(await eventIds('7'), [], 'nothing after the newest')
    t.same(await eventIds('100'), [], 'a cursor ahead of the log is not expired')
    t.same(await eventIds('0', [EventType.SWEEP_FINISHED]), ['3', '4', '7'])
    t.same(await eventIds('2', [EventType.KERNEL_TERMINATED, EventType.AGENT_DECOMMISSIONED]), ['5', '6'])
    t.same(await eventIds('3', [EventType.SWEEP_FINISHED], 1), ['4'])
    t.same(await eventIds(null, []), [], 'no type asked, none given')
    t.equal(await p.events.lastId(), '7')
  })

  await t.test('events: pruned by age, up to the newest one older than the cut; a cursor below what was pruned is expired', async (t) => {
    for (let i = 0; i < 3; i++) await sweepWrites(sweepSummary(), [])
    // An event's time is its transaction's start, so times need not follow ids: 2 is old, 1 is not.
    await db.query("UPDATE events SET time = now() - interval '2 hours' WHERE id = 2")
    const cut = new Date(Date.now() - 3_600_000)
    t.equal(await p.events.prune(cut), 2, 'everything up to 2')
    t.same(await eventIds(null), ['3'], 'from the oldest kept')
    t.same(await eventIds('2'), ['3'], 'a reader that had 2 misses nothing')
    t.equal(await eventIds('1'), null, 'a reader at 1 lost event 2: expired')
    t.equal(await eventIds('0', [EventType.KERNEL_TERMINATED]), null, 'expired whatever the types')
    t.equal(await p.events.prune(cut), 0)
    t.equal(await eventIds('1'), null, 'the mark stays')
    await sweepWrites(sweepSummary(), [])
    t.same(await eventIds('2'), ['3', '4'])
    t.equal(await p.events.lastId(), '4', 'ids go on after a prune')
  })

  await t.test('events: 10,000 terminations append in one call, quickly', async (t) => {
    const kernels = Array.from({ length: 10_000 }, () => kernel())
    await p.kernels.upsertMany(kernels)
    const sweep = sweepSummary({ kernels: 10_000, failures: 10_000, terminated: 10_000 })
    await p.stateEngine.markKernelsTerminated(kernels.map((k) => ({
      kernelId: k.id, reason: 'STALE_KERNEL', fromStatus: RUNNING, expectedVersion: 1,
    })), { sweepId: sweep.sweepId })
    const started = performance.now()
    await p.events.appendSweepEvents(sweep, [])
    const elapsedMs = performance.now() - started
    t.ok(elapsedMs < 2_000, `appended in ${elapsedMs.toFixed(0)} ms`)
    t.equal(await p.events.lastId(), '10001')
    t.same(untimed(await p.events.page({ after: '10000', types: null, limit: 10 })), [
      { id: '10001', type: EventType.SWEEP_FINISHED, subject: sweep.sweepId, data: finishedData(sweep) },
    ])
    t.equal((await p.events.page({ after: null, types: [EventType.KERNEL_TERMINATED], limit: 1000 }))?.length, 1000)
  })
}
