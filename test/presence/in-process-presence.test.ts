import t from 'tap'
import { ScheduleType } from '../../src/domain/schedule-type.js'
import { InProcessPresenceStore } from '../../src/presence/in-process-presence-store.js'
import { kernelsOf, type PresenceHarness, presenceContract, RULES } from '../helpers/presence-contract.js'

function harness (): PresenceHarness & { store: InProcessPresenceStore, clock: { now: number } } {
  const clock = { now: 1_800_000_000 }
  const store = new InProcessPresenceStore({ ...RULES, clock: () => clock.now })
  return {
    store,
    clock,
    now: async () => clock.now,
    writeHeartbeat: async (agentId, kernelId, presence, ageSec) => {
      const now = clock.now
      clock.now = now - ageSec
      await store.updateKernelPresenceBatch(agentId, new Map([[kernelId, presence === '1']]))
      clock.now = now
    },
    kernelFields: async (kernelId) => {
      const record = store.rawKernelRecord(kernelId)
      if (record === undefined) return null
      const fields: Record<string, string> = {}
      if (record.presence !== null) fields['presence'] = record.presence
      if (record.lastPresence !== null) fields['last_presence'] = record.lastPresence
      if (record.agentId !== null) fields['agent_id'] = record.agentId
      if (record.lastCheck !== null) fields['last_check'] = String(record.lastCheck)
      return fields
    },
    kernelTtl: async (kernelId) => {
      const record = store.rawKernelRecord(kernelId)
      return record === undefined ? null : record.expiresAt - clock.now
    },
    agentLastCheck: async (agentId) => store.agentLastCheck(agentId),
    scheduleMarked: async (type: ScheduleType) => store.isScheduleMarked(type),
  }
}

t.test('presence contract: in-process store', async (t) => {
  await presenceContract(t, async () => harness())
})

t.test('in-process records expire after their TTL, as keys do in Valkey', async (t) => {
  const h = harness()
  await h.store.updateKernelPresenceBatch('a1', new Map([['k1', true]]))
  await h.store.checkKernelPresenceStatusBatch(kernelsOf('a1', 'k1'), ['a1'])
  h.clock.now += RULES.ttlSec - 1
  t.not(await h.kernelFields('k1'), null, 'still there a second before')
  h.clock.now += 1
  t.equal(await h.kernelFields('k1'), null, 'gone at the TTL')
  t.same(await h.store.getKernelPresence('k1'), { presence: null, lastPresence: null })
  h.clock.now += 1200
  t.equal(h.store.agentLastCheck('a1'), null, 'agent last check expires too')
  await h.store.updateKernelPresenceBatch('a1', new Map([['k2', false]]))
  t.equal(h.store.rawKernelRecord('k1'), undefined, 'purged')
  await h.store.close()
  t.equal(await h.kernelFields('k2'), null, 'close forgets everything')
})
