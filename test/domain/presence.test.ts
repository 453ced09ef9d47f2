import t from 'tap'
import { HealthCheckStatus, isSuspectPresence } from '../../src/domain/presence.js'

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
