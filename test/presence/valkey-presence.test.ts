import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { HealthCheckStatus } from '../../src/domain/presence.js'
import { ScheduleType } from '../../src/domain/schedule-type.js'
import { PresenceUnavailableError } from '../../src/presence/presence-store.js'
import { ValkeyPresenceStore } from '../../src/presence/valkey-presence-store.js'
import { kernelsOf, type PresenceHarness, presenceContract, RULES } from '../helpers/presence-contract.js'
import { OwnRedisServer, skipWithoutRedis, testRedisDb } from '../helpers/redis.js'

const REDIS_DB = 11

async function harness (t: Test): Promise<PresenceHarness & { store: ValkeyPresenceStore, raw: import('ioredis').Redis }> {
  const { url, raw } = await testRedisDb(t, REDIS_DB)
  const store = new ValkeyPresenceStore({ url, ...RULES })
  t.teardown(() => store.close())
  await store.waitUntilReady()
  const now = async (): Promise<number> => Number((await raw.time())[0])
  return {
    store,
    raw,
    now,
    // Written by hand, so the reading is tested apart from the store's own writing.
    writeHeartbeat: async (agentId, kernelId, presence, ageSec) => {
      await raw.hset(`kernel:presence:${kernelId}`, 'presence', presence, 'last_presence', String(await now() - ageSec), 'agent_id', agentId)
      await raw.expire(`kernel:presence:${kernelId}`, 300)
    },
    kernelFields: async (kernelId) => {
      const fields = await raw.hgetall(`kernel:presence:${kernelId}`)
      return Object.keys(fields).length === 0 ? null : fields
    },
    kernelTtl: async (kernelId) => {
      const ttl = await raw.ttl(`kernel:presence:${kernelId}`)
      return ttl < 0 ? null : ttl
    },
    agentLastCheck: async (agentId) => {
      const value = await raw.get(`agent:last_check:${agentId}`)
      return value === null ? null : Number(value)
    },
    scheduleMarked: async (type: ScheduleType) => await raw.get(`schedule:${type}`) === '1',
  }
}

t.test('Valkey presence store', { skip: await skipWithoutRedis() }, async (t) => {
  await t.test('presence contract: Valkey store', async (t) => {
    await presenceContract(t, harness)
  })

  await t.test('key names, fields and lifetimes are Backend.AI\'s', async (t) => {
    const h = await harness(t)
    const k1 = randomUUID()
    await h.store.updateKernelPresenceBatch('i-agent-01', new Map([[k1, true]]))
    await h.store.checkKernelPresenceStatusBatch(kernelsOf('i-agent-01', k1), ['i-agent-01'])
    await h.store.markSchedulesNeeded([ScheduleType.DETECT_KERNEL_TERMINATION])

    t.same((await h.raw.keys('*')).sort(), [
      'agent:last_check:i-agent-01', `kernel:presence:${k1}`, 'schedule:detect_kernel_termination',
    ])
    t.equal(await h.raw.type(`kernel:presence:${k1}`), 'hash')
    t.same(Object.keys(await h.raw.hgetall(`kernel:presence:${k1}`)).sort(), ['agent_id', 'last_check', 'last_presence', 'presence'])
    t.equal(await h.raw.hget(`kernel:presence:${k1}`, 'agent_id'), 'i-agent-01', 'the route\'s agent (v2)')
    t.ok(await h.raw.ttl('agent:last_check:i-agent-01') > 1190, 'agent last check lives 1200 s')
    t.equal(await h.raw.get('schedule:detect_kernel_termination'), '1')
    t.equal(await h.raw.ttl('schedule:detect_kernel_termination'), -1, 'the mark does not expire')
  })

  await t.test('bad records read as no record and never fail the batch', async (t) => {
    const h = await harness(t)
    const now = await h.now()
    const ids = {
      noPresenceField: randomUUID(),
      textTime: randomUUID(),
      fractionalTime: randomUUID(),
      stringKey: randomUUID(),
      listKey: randomUUID(),
      good: randomUUID(),
    }
    await h.raw.hset(`kernel:presence:${ids.noPresenceField}`, 'last_presence', String(now))
    await h.raw.hset(`kernel:presence:${ids.textTime}`, 'presence', '1', 'last_presence', 'yesterday')
    await h.raw.hset(`kernel:presence:${ids.fractionalTime}`, 'presence', '1', 'last_presence', `${now}.5`)
    await h.raw.set(`kernel:presence:${ids.stringKey}`, 'alive')
    await h.raw.rpush(`kernel:presence:${ids.listKey}`, '1')
    await h.writeHeartbeat('a1', ids.good, '1', 0)

    const statuses = await h.store.checkKernelPresenceStatusBatch(kernelsOf('a1', ...Object.values(ids)), ['a1'])
    for (const [name, id] of Object.entries(ids)) {
      if (name !== 'good') t.equal(statuses.get(id), null, `${name} reads as no record`)
    }
    t.equal(statuses.get(ids.good)?.presence, HealthCheckStatus.ALIVE, 'the good record in the same batch is read')
    t.equal(await h.raw.get(`kernel:presence:${ids.stringKey}`), 'alive', 'the check leaves a foreign key alone')
    t.same(await h.store.getKernelPresence(ids.listKey), { presence: null, lastPresence: null })

    await h.store.updateKernelPresenceBatch('a1', new Map([[ids.stringKey, true]]))
    t.equal(await h.raw.type(`kernel:presence:${ids.stringKey}`), 'hash', 'a heartbeat replaces a foreign key')
    t.equal((await h.store.getKernelPresence(ids.stringKey)).presence, HealthCheckStatus.ALIVE)
  })

  await t.test('records Backend.AI agents write, without agent_id, read as before whatever the kernel\'s agent', async (t) => {
    const h = await harness(t)
    const [fresh, unhealthy, stale, noAgent] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
    const now = await h.now()
    // Exactly what a Backend.AI agent sends.
    const backendAiHeartbeat = (kernelId: string, presence: '1' | '0', lastPresence: number) =>
      h.raw.hset(`kernel:presence:${kernelId}`, 'presence', presence, 'last_presence', String(lastPresence))
    await backendAiHeartbeat(fresh, '1', now)
    await backendAiHeartbeat(unhealthy, '0', now)
    await backendAiHeartbeat(stale, '1', now - RULES.stalenessSec - 10)
    await backendAiHeartbeat(noAgent, '1', now)

    const statuses = await h.store.checkKernelPresenceStatusBatch([...kernelsOf('a1', fresh, unhealthy), ...kernelsOf('a2', stale), ...kernelsOf(null, noAgent)], [])
    t.same(statuses.get(fresh), { presence: HealthCheckStatus.ALIVE, lastPresence: now })
    t.same(statuses.get(unhealthy), { presence: HealthCheckStatus.UNHEALTHY, lastPresence: now })
    t.same(statuses.get(stale), { presence: HealthCheckStatus.STALE, lastPresence: now - RULES.stalenessSec - 10 })
    t.same(statuses.get(noAgent), { presence: HealthCheckStatus.ALIVE, lastPresence: now })
    t.equal(await h.raw.hexists(`kernel:presence:${fresh}`, 'agent_id'), 0, 'the check adds no agent_id')
  })

  await t.test('the database number comes from the URL', async (t) => {
    const h = await harness(t)
    const k1 = randomUUID()
    await h.store.updateKernelPresenceBatch('a1', new Map([[k1, true]]))
    t.equal(await h.raw.exists(`kernel:presence:${k1}`), 1, `written to database ${REDIS_DB}`)
    const other = h.raw.duplicate({ db: 0 })
    t.teardown(() => other.disconnect())
    t.equal(await other.exists(`kernel:presence:${k1}`), 0, 'not to database 0')
  })
})

t.test('Valkey faults: unavailable within bounded time, and recovery by itself', { skip: await skipWithoutRedis() }, async (t) => {
  const calls = (store: ValkeyPresenceStore): Array<[string, () => Promise<unknown>]> => [
    ['check', () => store.checkKernelPresenceStatusBatch(kernelsOf('a1', randomUUID()), ['a1'])],
    ['update', () => store.updateKernelPresenceBatch('a1', new Map([[randomUUID(), true]]))],
    ['get', () => store.getKernelPresence(randomUUID())],
    ['mark', () => store.markSchedulesNeeded([ScheduleType.DETECT_KERNEL_TERMINATION])],
    ['ping', () => store.ping()],
  ]

  await t.test('nothing listening: every call fails at once with PresenceUnavailableError', async (t) => {
    const server = await OwnRedisServer.start(t)
    await server.stop()
    const store = new ValkeyPresenceStore({ url: server.url, ...RULES })
    t.teardown(() => store.close())
    t.equal(await store.waitUntilReady(300), false)
    for (const [name, call] of calls(store)) {
      const started = Date.now()
      await t.rejects(call(), PresenceUnavailableError, name)
      t.ok(Date.now() - started < 500, `${name} failed in ${Date.now() - started} ms`)
    }
  })

  await t.test('killed, then restarted: errors while down, working again without help', async (t) => {
    const server = await OwnRedisServer.start(t)
    const store = new ValkeyPresenceStore({ url: server.url, ...RULES })
    t.teardown(() => store.close())
    t.equal(await store.waitUntilReady(), true)
    await store.ping()

    await server.stop()
    for (const [name, call] of calls(store)) await t.rejects(call(), PresenceUnavailableError, `${name} while down`)

    await server.start()
    let recovered = false
    for (let i = 0; i < 60 && !recovered; i++) {
      recovered = await store.ping().then(() => true, async () => { await new Promise((resolve) => setTimeout(resolve, 100)); return false })
    }
    t.ok(recovered, 'answers again once the server is back')
    const k1 = randomUUID()
    await store.updateKernelPresenceBatch('a1', new Map([[k1, true]]))
    t.equal((await store.getKernelPresence(k1)).presence, HealthCheckStatus.ALIVE)
  })

  await t.test('a hung server: the command times out with PresenceUnavailableError', async (t) => {
    const server = await OwnRedisServer.start(t)
    const store = new ValkeyPresenceStore({ url: server.url, ...RULES, commandTimeoutMs: 300 })
    t.teardown(() => store.close())
    await store.waitUntilReady()
    server.freeze()
    t.teardown(() => server.thaw())
    const started = Date.now()
    await t.rejects(store.checkKernelPresenceStatusBatch(kernelsOf('a1', randomUUID()), []), PresenceUnavailableError)
    t.ok(Date.now() - started < 1_500, `gave up after ${Date.now() - started} ms`)
    server.thaw()
    let recovered = false
    for (let i = 0; i < 60 && !recovered; i++) {
      recovered = await store.ping().then(() => true, async () => { await new Promise((resolve) => setTimeout(resolve, 100)); return false })
    }
    t.ok(recovered, 'answers again once the server wakes')
  })
})
