import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { ValkeyPresenceStore } from '../../src/presence/valkey-presence-store.js'
import { PresenceUnavailableError } from '../../src/presence/presence-store.js'
import { CapturingLogger } from '../helpers/capturing-logger.js'
import { OwnRedisServer, skipWithoutRedis } from '../helpers/redis.js'

// An on-call reads "lost" once when Valkey goes and "recovered" once when it is back — not a line
// per reconnect attempt, and nothing at shutdown.

async function until (condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await sleep(25)
  }
}

t.test('Valkey lost and recovered are logged once each; commands fail fast in between, in the connection\'s words', { skip: await skipWithoutRedis() }, async (t) => {
  const server = await OwnRedisServer.start(t)
  const logger = new CapturingLogger()
  const store = new ValkeyPresenceStore({ url: server.url, stalenessSec: 120, ttlSec: 300, logger })
  t.teardown(() => store.close())
  t.ok(await store.waitUntilReady(5_000))
  await store.ping()
  t.same(logger.entries, [], 'nothing said of a first connection')

  await server.stop()
  await until(() => logger.at('warn').length > 0, 5_000)
  const started = Date.now()
  const error = await store.ping().then(() => null, (e: unknown) => e)
  t.type(error, PresenceUnavailableError)
  t.match((error as Error).message, /^presence store unavailable: (connection closed|connect ECONNREFUSED)/)
  t.ok(Date.now() - started < 1_000, 'fails fast while it is gone')
  await sleep(2_500) // several reconnect attempts
  t.match(logger.at('warn'), [{ message: /^presence store lost/ }])
  t.equal(logger.at('warn').length, 1, 'lost: said once, not at every reconnect attempt')

  await server.start()
  await until(() => logger.at('info').length > 0, 10_000)
  await store.ping()
  t.match(logger.at('info'), [{ message: 'presence store recovered' }])

  await store.close()
  await sleep(200)
  t.equal(logger.entries.length, 2, 'one line each way; closing says nothing')
})
