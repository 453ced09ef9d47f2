import t from 'tap'
import { StoreUnavailableAtStartError, waitForStore } from '../../src/plugins/store-startup.js'
import { CapturingLogger } from '../helpers/capturing-logger.js'

// The start waits for a store with backoff for STARTUP_TIMEOUT_SEC, says so once, and gives up
// with one error naming the store, where it is, and the cause without its wrappers.

function failingFor (attempts: number, message: string): { probe: () => Promise<void>, calls: () => number, times: number[] } {
  const times: number[] = []
  return {
    probe: async () => {
      times.push(Date.now())
      if (times.length <= attempts) throw new Error('database unavailable', { cause: new Error(message) })
    },
    calls: () => times.length,
    times,
  }
}

t.test('a store that answers after a few attempts is waited for, and said once', async (t) => {
  const logger = new CapturingLogger()
  const store = failingFor(3, 'connect ECONNREFUSED 127.0.0.1:5432')
  await waitForStore({ store: 'database', location: 'PostgreSQL at db:5432/k', probe: store.probe, timeoutSec: 30, logger })
  t.equal(store.calls(), 4)
  t.match(logger.entries, [{ level: 'warn', fields: { store: 'database', location: 'PostgreSQL at db:5432/k', err: 'connect ECONNREFUSED 127.0.0.1:5432' } }])
  t.equal(logger.entries.length, 1, 'one line, not one per attempt')
})

t.test('a store that never answers: tried with backoff until the timeout, then one error naming it', async (t) => {
  const logger = new CapturingLogger()
  const store = failingFor(Number.POSITIVE_INFINITY, 'getaddrinfo ENOTFOUND db')
  const started = Date.now()
  const error = await waitForStore({ store: 'database', location: 'PostgreSQL at db:5432/k', probe: store.probe, timeoutSec: 1, logger })
    .then(() => null, (e: unknown) => e)
  const elapsed = Date.now() - started
  t.type(error, StoreUnavailableAtStartError)
  t.equal((error as Error).message, 'database (PostgreSQL at db:5432/k) did not answer within 1 s: getaddrinfo ENOTFOUND db')
  t.ok(elapsed >= 900 && elapsed < 3_000, `gave up at the timeout (${elapsed} ms)`)
  // 250 ms, then 500 ms between attempts; p-retry shortens the last wait to the time left, so a
  // slow machine may see a quick attempt or two right at the end — a busy loop would be hundreds.
  const [first, second, third] = store.times
  t.ok(second! - first! >= 200 && third! - second! >= 400, `backoff: ${store.times.map((at) => at - first!).join(', ')} ms`)
  t.ok(store.calls() <= 10, `not a busy loop (${store.calls()} attempts)`)
})

t.test('STARTUP_TIMEOUT_SEC=0: one attempt, no waiting, nothing said before the error', async (t) => {
  const logger = new CapturingLogger()
  const store = failingFor(1, 'connect ECONNREFUSED 127.0.0.1:6379')
  const error = await waitForStore({ store: 'presence', location: 'Valkey at 127.0.0.1:6379/0', probe: store.probe, timeoutSec: 0, logger })
    .then(() => null, (e: unknown) => e)
  t.type(error, StoreUnavailableAtStartError)
  t.equal(store.calls(), 1)
  t.same(logger.entries, [])
})
