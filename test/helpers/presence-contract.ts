import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { AgentId, KernelId } from '../../src/domain/kernel-info.js'
import { HealthCheckStatus } from '../../src/domain/presence.js'
import { ScheduleType } from '../../src/domain/schedule-type.js'
import type { CheckedKernel, PresenceStore } from '../../src/presence/presence-store.js'

export const RULES = { stalenessSec: 120, ttlSec: 300 }

/** The kernels `kernelIds`, all on agent `agentId`, as stage 1 checks them. */
export function kernelsOf (agentId: AgentId | null, ...kernelIds: KernelId[]): CheckedKernel[] {
  return kernelIds.map((id) => ({ id, agentId }))
}

/** What the suite needs to see behind a store: its clock and its raw records. */
export interface PresenceHarness {
  readonly store: PresenceStore
  /** The store's clock, in seconds. */
  now (): Promise<number>
  /** Writes agent `agentId`'s heartbeat as the presence route does, stamped `ageSec` before the store's now. */
  writeHeartbeat (agentId: AgentId, kernelId: KernelId, presence: '1' | '0', ageSec: number): Promise<void>
  /** The kernel's stored fields, or null when there is no record. */
  kernelFields (kernelId: string): Promise<Record<string, string> | null>
  /** Seconds until the kernel's record expires, or null. */
  kernelTtl (kernelId: string): Promise<number | null>
  agentLastCheck (agentId: string): Promise<number | null>
  scheduleMarked (type: ScheduleType): Promise<boolean>
}

/**
 * Runs `work` until the store's clock did not tick across it: assertions about "now" and
 * "N seconds old" are then exact, even on a real server's clock.
 */
async function withinOneSecond<T> (harness: PresenceHarness, work: () => Promise<T>): Promise<{ result: T, now: number }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = await harness.now()
    const result = await work()
    if (await harness.now() === before) return { result, now: before }
  }
  throw new Error('the clock ticked during every attempt')
}

const { ALIVE, UNHEALTHY, STALE } = HealthCheckStatus
const AGENT = 'a1'

/** The rules both presence stores (Valkey and in-process) keep, asserted the same way. */
export async function presenceContract (t: Test, setup: (t: Test) => Promise<PresenceHarness>): Promise<void> {
  await t.test('no record reads as null, and the check leaves a hash with only last_check', async (t) => {
    const h = await setup(t)
    const k1 = randomUUID()
    const { result, now } = await withinOneSecond(h, () => h.store.checkKernelPresenceStatusBatch(kernelsOf(AGENT, k1), [AGENT]))
    t.same([...result], [[k1, null]])
    t.same(await h.kernelFields(k1), { last_check: String(now) })
    t.equal(await h.kernelTtl(k1), RULES.ttlSec)
    t.equal(await h.agentLastCheck(AGENT), now)
    t.same([...await h.store.checkKernelPresenceStatusBatch(kernelsOf(AGENT, k1), [])], [[k1, null]], 'a hash with only last_check is still no record')
  })

  await t.test('a fresh heartbeat is ALIVE (presence 1) or UNHEALTHY (presence 0)', async (t) => {
    const h = await setup(t)
    const [k1, k2] = [randomUUID(), randomUUID()]
    const { result, now } = await withinOneSecond(h, async () => {
      await h.writeHeartbeat(AGENT, k1, '1', 0)
      await h.writeHeartbeat(AGENT, k2, '0', 0)
      return h.store.checkKernelPresenceStatusBatch(kernelsOf(AGENT, k1, k2), [AGENT])
    })
    t.same(result.get(k1), { presence: ALIVE, lastPresence: now })
    t.same(result.get(k2), { presence: UNHEALTHY, lastPresence: now })
  })

  await t.test(`staleness boundary: ${RULES.stalenessSec} s old is ALIVE, one second more is STALE`, async (t) => {
    const h = await setup(t)
    const [atLimit, past, pastUnhealthy] = [randomUUID(), randomUUID(), randomUUID()]
    const { result } = await withinOneSecond(h, async () => {
      await h.writeHeartbeat(AGENT, atLimit, '1', RULES.stalenessSec)
      await h.writeHeartbeat(AGENT, past, '1', RULES.stalenessSec + 1)
      await h.writeHeartbeat(AGENT, pastUnhealthy, '0', RULES.stalenessSec + 1)
      return h.store.checkKernelPresenceStatusBatch(kernelsOf(AGENT, atLimit, past, pastUnhealthy), [])
    })
    t.equal(result.get(atLimit)?.presence, ALIVE)
    t.equal(result.get(past)?.presence, STALE)
    t.equal(result.get(pastUnhealthy)?.presence, STALE)
  })

  await t.test('the check stamps last_check, renews the expiry and keeps the heartbeat fields', async (t) => {
    const h = await setup(t)
    const k1 = randomUUID()
    const { now } = await withinOneSecond(h, async () => {
      await h.writeHeartbeat(AGENT, k1, '1', 10)
      await h.store.checkKernelPresenceStatusBatch(kernelsOf(AGENT, k1), ['a1', 'a2'])
    })
    t.same(await h.kernelFields(k1), { presence: '1', last_presence: String(now - 10), agent_id: AGENT, last_check: String(now) })
    t.equal(await h.kernelTtl(k1), RULES.ttlSec)
    t.equal(await h.agentLastCheck('a1'), now)
    t.equal(await h.agentLastCheck('a2'), now)
    t.equal(await h.agentLastCheck('a3'), null)
  })

  await t.test('heartbeats through the store: presence, last_presence, the agent and expiry, last_check kept', async (t) => {
    const h = await setup(t)
    const [k1, k2] = [randomUUID(), randomUUID()]
    await h.store.checkKernelPresenceStatusBatch(kernelsOf(AGENT, k1), [])
    const { now } = await withinOneSecond(h, () => h.store.updateKernelPresenceBatch(AGENT, new Map([[k1, true], [k2, false]])))
    t.match(await h.kernelFields(k1), { presence: '1', last_presence: String(now), agent_id: AGENT })
    t.ok((await h.kernelFields(k1))?.['last_check'] !== undefined, 'last_check kept')
    t.same(await h.kernelFields(k2), { presence: '0', last_presence: String(now), agent_id: AGENT })
    t.equal(await h.kernelTtl(k2), RULES.ttlSec)
    const read = await h.store.checkKernelPresenceStatusBatch(kernelsOf(AGENT, k1, k2), [])
    t.equal(read.get(k1)?.presence, ALIVE)
    t.equal(read.get(k2)?.presence, UNHEALTHY)
    await h.store.updateKernelPresenceBatch(AGENT, new Map())
    t.pass('an empty heartbeat is a no-op')
  })

  await t.test('getKernelPresence reads without writing', async (t) => {
    const h = await setup(t)
    const [k1, k2] = [randomUUID(), randomUUID()]
    const { result, now } = await withinOneSecond(h, async () => {
      await h.writeHeartbeat(AGENT, k1, '1', RULES.stalenessSec + 5)
      return h.store.getKernelPresence(k1)
    })
    t.same(result, { presence: STALE, lastPresence: now - RULES.stalenessSec - 5 })
    t.same(await h.kernelFields(k1), { presence: '1', last_presence: String(now - RULES.stalenessSec - 5), agent_id: AGENT }, 'no last_check written')
    t.same(await h.store.getKernelPresence(k2), { presence: null, lastPresence: null })
    t.equal(await h.kernelFields(k2), null, 'no record created')
  })

  await t.test('a heartbeat vouches only for its own agent\'s kernels; a kernel with no agent reads it as before', async (t) => {
    const h = await setup(t)
    const [own, other, otherStale, noAgent] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
    const { result, now } = await withinOneSecond(h, async () => {
      for (const kernelId of [own, other, noAgent]) await h.writeHeartbeat(AGENT, kernelId, '1', 0)
      await h.writeHeartbeat(AGENT, otherStale, '1', RULES.stalenessSec + 1)
      return h.store.checkKernelPresenceStatusBatch([...kernelsOf(AGENT, own), ...kernelsOf('a2', other, otherStale), ...kernelsOf(null, noAgent)], [AGENT, 'a2'])
    })
    t.same(result.get(own), { presence: ALIVE, lastPresence: now })
    t.equal(result.get(other), null, 'another agent\'s word is no record: the kernel\'s own agent is asked')
    t.equal(result.get(otherStale), null, 'nor is it STALE')
    t.same(result.get(noAgent), { presence: ALIVE, lastPresence: now }, 'nothing to compare with')
    t.same(await h.kernelFields(other), { presence: '1', last_presence: String(now), agent_id: AGENT, last_check: String(now) }, 'the check stamps it all the same')
    t.same(await h.store.getKernelPresence(other), { presence: ALIVE, lastPresence: now }, 'read without a kernel agent to compare with')

    await h.writeHeartbeat('a2', other, '0', 0)
    t.equal((await h.store.checkKernelPresenceStatusBatch(kernelsOf('a2', other), [])).get(other)?.presence, UNHEALTHY,
      'the kernel\'s own agent reporting it takes the record over')
  })

  await t.test('schedule marks', async (t) => {
    const h = await setup(t)
    t.equal(await h.scheduleMarked(ScheduleType.DETECT_KERNEL_TERMINATION), false)
    await h.store.markSchedulesNeeded([])
    t.equal(await h.scheduleMarked(ScheduleType.DETECT_KERNEL_TERMINATION), false)
    await h.store.markSchedulesNeeded([ScheduleType.DETECT_KERNEL_TERMINATION])
    t.equal(await h.scheduleMarked(ScheduleType.DETECT_KERNEL_TERMINATION), true)
  })

  await t.test('a batch larger than one script call reads every kernel right, each against its own agent', async (t) => {
    const h = await setup(t)
    // By i % 4: a1's kernel with a1's heartbeat (ALIVE); a2's kernel with a1's heartbeat (null); a
    // kernel with no agent and a1's heartbeat (ALIVE); a1's kernel with no heartbeat (null).
    const agents = [AGENT, 'a2', null, AGENT]
    const kernels = Array.from({ length: 25_000 }, (_, i) => ({ id: randomUUID(), agentId: agents[i % 4]! }))
    await h.store.updateKernelPresenceBatch(AGENT, new Map(kernels.filter((_, i) => i % 4 !== 3).map(({ id }) => [id, true])))
    const statuses = await h.store.checkKernelPresenceStatusBatch(kernels, [AGENT, 'a2'])
    t.equal(statuses.size, kernels.length)
    t.ok(kernels.every(({ id }, i) => (i % 2 === 0 ? statuses.get(id)?.presence === ALIVE : statuses.get(id) === null)))
    t.same([...await h.store.checkKernelPresenceStatusBatch([], [AGENT])], [], 'an empty batch reads nothing')
  })

  await t.test('ping answers', async (t) => {
    const h = await setup(t)
    await h.store.ping()
    t.pass()
  })
}
