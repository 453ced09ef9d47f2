import t from 'tap'
import { classifyPresence, HealthCheckStatus, isSuspectPresence, type RawPresence } from '../../src/domain/presence.js'

const { ALIVE, UNHEALTHY, STALE } = HealthCheckStatus

t.test('suspect presence: STALE or no record; ALIVE and UNHEALTHY vouch for the kernel', async (t) => {
  const table: Array<[string, Parameters<typeof isSuspectPresence>[0], boolean]> = [
    ['no record (null)', null, true],
    ['not in the answer (undefined)', undefined, true],
    ['STALE', { presence: HealthCheckStatus.STALE, lastPresence: 1 }, true],
    ['ALIVE', { presence: HealthCheckStatus.ALIVE, lastPresence: 1 }, false],
    ['UNHEALTHY', { presence: HealthCheckStatus.UNHEALTHY, lastPresence: 1 }, false],
  ]
  for (const [name, status, suspect] of table) t.equal(isSuspectPresence(status), suspect, name)
})

t.test('classifyPresence: the record, its age, and whose heartbeat it is', async (t) => {
  const now = 1_800_000_000
  const stalenessSec = 120
  const record = (fields: Partial<RawPresence>): RawPresence => ({ presence: '1', lastPresence: String(now), agentId: 'a1', ...fields })
  const table: Array<[string, RawPresence, string | null, ReturnType<typeof classifyPresence>]> = [
    ['own agent, fresh, running', record({}), 'a1', { presence: ALIVE, lastPresence: now }],
    ['own agent, fresh, unhealthy', record({ presence: '0' }), 'a1', { presence: UNHEALTHY, lastPresence: now }],
    ['own agent, at the staleness limit', record({ lastPresence: String(now - stalenessSec) }), 'a1', { presence: ALIVE, lastPresence: now - stalenessSec }],
    ['own agent, one second past it', record({ lastPresence: String(now - stalenessSec - 1) }), 'a1', { presence: STALE, lastPresence: now - stalenessSec - 1 }],
    ['another agent\'s heartbeat: no record', record({}), 'a2', null],
    ['another agent\'s stale heartbeat: no record, not STALE', record({ lastPresence: String(now - stalenessSec - 1) }), 'a2', null],
    ['another agent\'s, for a kernel with no agent: read as before', record({}), null, { presence: ALIVE, lastPresence: now }],
    ['no agent_id (Backend.AI\'s record): read as before', record({ agentId: null }), 'a2', { presence: ALIVE, lastPresence: now }],
    ['no agent_id, stale: STALE as before', record({ agentId: null, lastPresence: String(now - stalenessSec - 1) }), 'a2', { presence: STALE, lastPresence: now - stalenessSec - 1 }],
    ['no presence field', record({ presence: null }), 'a1', null],
    ['no last_presence', record({ lastPresence: null }), 'a1', null],
    ['a last_presence that is not an integer', record({ lastPresence: `${now}.5` }), 'a1', null],
    ['a last_presence beyond safe integers', record({ lastPresence: '99999999999999999999' }), 'a1', null],
  ]
  for (const [name, raw, kernelAgentId, expected] of table) t.same(classifyPresence(raw, kernelAgentId, now, stalenessSec), expected, name)
})
