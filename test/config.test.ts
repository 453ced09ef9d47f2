import t from 'tap'
import { loadConfig, unknownSettings } from '../src/config.js'

t.test('defaults follow the contract', async (t) => {
  t.same(loadConfig({}), {
    host: '127.0.0.1',
    port: 8080,
    databaseUrl: null,
    dataDir: './.data',
    valkeyUrl: null,
    valkeySentinel: null,
    apiToken: null,
    agentToken: null,
    agentTokenSecret: null,
    agentAddressAllow: null,
    httpHeadersTimeoutMs: 10_000,
    httpRequestTimeoutMs: 30_000,
    httpIdleTimeoutMs: 65_000,
    presenceStalenessSec: 120,
    presenceTtlSec: 300,
    sweepIntervalSec: 60,
    sweepInitialDelaySec: 30,
    sweepLockLifetimeSec: 30,
    sweepConfirmations: 1,
    agentRpcTimeoutMs: 5000,
    agentRpcConcurrency: 32,
    agentRpcBatchSize: 1000,
    agentBatchRetrySec: 600,
    agentLostAfterSec: 600,
    guardMaxRatio: 0.5,
    guardMinKernels: 10,
    sweepRetentionHours: 168,
    eventRetentionHours: 168,
    startupTimeoutSec: 60,
    logLevel: 'info',
  })
})

t.test('values come from the environment, coerced', async (t) => {
  t.same(loadConfig({
    HOST: '0.0.0.0',
    PORT: '0',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
    DATA_DIR: '/var/lib/kernel-sweeper',
    VALKEY_URL: 'redis://127.0.0.1:6379/2',
    API_TOKEN: 'a',
    AGENT_TOKEN: 'b',
    AGENT_TOKEN_SECRET: 'c d',
    AGENT_ADDRESS_ALLOW: '10.0.0.0/8, fd00::/8,127.0.0.1/32',
    HTTP_HEADERS_TIMEOUT_MS: '2000',
    HTTP_REQUEST_TIMEOUT_MS: '4000',
    HTTP_IDLE_TIMEOUT_MS: '6000',
    PRESENCE_STALENESS_SEC: '90',
    PRESENCE_TTL_SEC: '200',
    SWEEP_INTERVAL_SEC: '0',
    SWEEP_INITIAL_DELAY_SEC: '5',
    SWEEP_LOCK_LIFETIME_SEC: '10',
    SWEEP_CONFIRMATIONS: '3',
    AGENT_RPC_TIMEOUT_MS: '250',
    AGENT_RPC_CONCURRENCY: '4',
    AGENT_RPC_BATCH_SIZE: '250',
    AGENT_BATCH_RETRY_SEC: '30',
    AGENT_LOST_AFTER_SEC: '0',
    GUARD_MAX_RATIO: '0.25',
    GUARD_MIN_KERNELS: '3',
    SWEEP_RETENTION_HOURS: '24',
    EVENT_RETENTION_HOURS: '48',
    STARTUP_TIMEOUT_SEC: '15',
    LOG_LEVEL: 'warn',
  }), {
    host: '0.0.0.0',
    port: 0,
    databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
    dataDir: '/var/lib/kernel-sweeper',
    valkeyUrl: 'redis://127.0.0.1:6379/2',
    valkeySentinel: null,
    apiToken: 'a',
    agentToken: 'b',
    agentTokenSecret: 'c d',
    agentAddressAllow: ['10.0.0.0/8', 'fd00::/8', '127.0.0.1/32'],
    httpHeadersTimeoutMs: 2000,
    httpRequestTimeoutMs: 4000,
    httpIdleTimeoutMs: 6000,
    presenceStalenessSec: 90,
    presenceTtlSec: 200,
    sweepIntervalSec: 0,
    sweepInitialDelaySec: 5,
    sweepLockLifetimeSec: 10,
    sweepConfirmations: 3,
    agentRpcTimeoutMs: 250,
    agentRpcConcurrency: 4,
    agentRpcBatchSize: 250,
    agentBatchRetrySec: 30,
    agentLostAfterSec: 0,
    guardMaxRatio: 0.25,
    guardMinKernels: 3,
    sweepRetentionHours: 24,
    eventRetentionHours: 48,
    startupTimeoutSec: 15,
    logLevel: 'warn',
  })
})

t.test('a bad value fails, naming the variable', async (t) => {
  const bad: Array<[string, string]> = [
    ['PORT', '70000'], ['PORT', 'eighty'], ['AGENT_RPC_CONCURRENCY', '0'], ['AGENT_RPC_CONCURRENCY', '2.5'],
    ['LOG_LEVEL', 'loud'], ['DATABASE_URL', ''], ['VALKEY_URL', 'http://127.0.0.1:6379'], ['GUARD_MAX_RATIO', '1.5'],
    ['GUARD_MIN_KERNELS', '0'], ['SWEEP_LOCK_LIFETIME_SEC', '0'], ['SWEEP_CONFIRMATIONS', '0'], ['SWEEP_CONFIRMATIONS', '11'], ['PRESENCE_STALENESS_SEC', '-1'], ['API_TOKEN', ''],
    ['AGENT_RPC_BATCH_SIZE', '0'], ['AGENT_RPC_BATCH_SIZE', '10001'], ['AGENT_BATCH_RETRY_SEC', '-1'], ['EVENT_RETENTION_HOURS', '0'],
    ['API_TOKEN', ' '], ['API_TOKEN', ' x'], ['API_TOKEN', 'x\t'], ['HTTP_REQUEST_TIMEOUT_MS', '0'], ['HTTP_HEADERS_TIMEOUT_MS', 'soon'],
    ['AGENT_ADDRESS_ALLOW', ''], ['AGENT_ADDRESS_ALLOW', '10.0.0.0'], ['AGENT_ADDRESS_ALLOW', '10.0.0.0/33'], ['AGENT_ADDRESS_ALLOW', 'fd00::/129'],
    ['AGENT_ADDRESS_ALLOW', 'example.com/8'], ['AGENT_ADDRESS_ALLOW', '10.0.0.0/8,'], ['AGENT_ADDRESS_ALLOW', '10.0.0.0/8/1'], ['AGENT_ADDRESS_ALLOW', '10.0.0.0/-1'],
  ]
  for (const [name, value] of bad) t.throws(() => loadConfig({ [name]: value }), new RegExp(name), `${name}=${value}`)
  for (const name of ['AGENT_TOKEN', 'AGENT_TOKEN_SECRET']) {
    t.throws(() => loadConfig({ [name]: ' ', API_TOKEN: 'a' }), new RegExp(name), `${name} blank`)
  }
})

t.test('settings that contradict each other stop the start: a presence record expiring before it can be stale', async (t) => {
  t.throws(() => loadConfig({ PRESENCE_TTL_SEC: '120' }), /PRESENCE_TTL_SEC \(120\) must be greater than PRESENCE_STALENESS_SEC \(120\)/)
  t.throws(() => loadConfig({ PRESENCE_STALENESS_SEC: '400' }), /PRESENCE_TTL_SEC \(300\) must be greater than PRESENCE_STALENESS_SEC \(400\)/)
  t.equal(loadConfig({ PRESENCE_STALENESS_SEC: '400', PRESENCE_TTL_SEC: '401' }).presenceTtlSec, 401)
})

t.test('variables that look like ours but are none are named, so the start can warn about them', async (t) => {
  t.same(unknownSettings({
    SWEEP_INTERVAL: '5',
    AGENT_TOKENS: 'x',
    PRESENCE_TTL: '1',
    GUARD_RATIO: '1',
    VALKEY_SENTINEL: 'a:1',
    SWEEP_INTERVAL_SEC: '5',
    AGENT_TOKEN: 'y',
    PATH: '/bin',
    HTTP_PROXY: 'http://proxy',
    NODE_ENV: 'production',
  }), ['AGENT_TOKENS', 'GUARD_RATIO', 'PRESENCE_TTL', 'SWEEP_INTERVAL', 'VALKEY_SENTINEL'])
  t.same(unknownSettings({}), [])
})

t.test('agent tokens without API_TOKEN stop the start, naming the variables', async (t) => {
  t.throws(() => loadConfig({ AGENT_TOKEN: 'b' }), /AGENT_TOKEN and AGENT_TOKEN_SECRET need API_TOKEN/)
  t.throws(() => loadConfig({ AGENT_TOKEN_SECRET: 's' }), /AGENT_TOKEN and AGENT_TOKEN_SECRET need API_TOKEN/)
  t.equal(loadConfig({ AGENT_TOKEN_SECRET: 's', API_TOKEN: 'a' }).agentTokenSecret, 's')
})

t.test('Valkey through Sentinel (contract §7): the sentinels, the master\'s name, database and password', async (t) => {
  t.same(loadConfig({ VALKEY_SENTINELS: 's1:26379, 10.0.0.2:26380,[fd00::3]:26381' }).valkeySentinel, {
    sentinels: [{ host: 's1', port: 26379 }, { host: '10.0.0.2', port: 26380 }, { host: 'fd00::3', port: 26381 }],
    masterName: 'mymaster',
    db: 0,
    password: null,
  }, 'the defaults: mymaster, database 0, no password')
  t.same(loadConfig({ VALKEY_SENTINELS: 's1:26379', VALKEY_SENTINEL_MASTER: 'presence', VALKEY_DB: '2', VALKEY_PASSWORD: 'pw' }).valkeySentinel, {
    sentinels: [{ host: 's1', port: 26379 }], masterName: 'presence', db: 2, password: 'pw',
  })
  t.equal(loadConfig({ VALKEY_SENTINELS: 's1:26379' }).valkeyUrl, null)
  for (const value of ['s1', 's1:', ':26379', 's1:0', 's1:65536', 's1:26379,', 'user@s1:26379', '[fd00::3:26381']) {
    t.throws(() => loadConfig({ VALKEY_SENTINELS: value }), /VALKEY_SENTINELS/, `VALKEY_SENTINELS=${value}`)
  }
  t.throws(() => loadConfig({ VALKEY_SENTINELS: 's1:26379', VALKEY_DB: '16' }), /VALKEY_DB/)
  t.throws(() => loadConfig({ VALKEY_SENTINELS: 's1:26379', VALKEY_SENTINEL_MASTER: 'my master' }), /VALKEY_SENTINEL_MASTER/)
})

t.test('VALKEY_URL excludes the Sentinel settings, and those need VALKEY_SENTINELS: the start stops, naming them', async (t) => {
  const url = 'redis://127.0.0.1:6379/2'
  t.throws(() => loadConfig({ VALKEY_URL: url, VALKEY_SENTINELS: 's1:26379' }), /VALKEY_URL excludes VALKEY_SENTINELS: use one or the other/)
  t.throws(() => loadConfig({ VALKEY_URL: url, VALKEY_DB: '2', VALKEY_PASSWORD: 'pw' }), /VALKEY_URL excludes VALKEY_DB, VALKEY_PASSWORD/)
  t.throws(() => loadConfig({ VALKEY_SENTINEL_MASTER: 'presence' }), /VALKEY_SENTINEL_MASTER need VALKEY_SENTINELS/)
  t.throws(() => loadConfig({ VALKEY_DB: '2' }), /VALKEY_DB need VALKEY_SENTINELS/)
})

t.test('STARTUP_TIMEOUT_SEC: 0 to an hour', async (t) => {
  t.equal(loadConfig({ STARTUP_TIMEOUT_SEC: '0' }).startupTimeoutSec, 0)
  t.equal(loadConfig({ STARTUP_TIMEOUT_SEC: '3600' }).startupTimeoutSec, 3600)
  t.throws(() => loadConfig({ STARTUP_TIMEOUT_SEC: '3601' }), /STARTUP_TIMEOUT_SEC/)
  t.throws(() => loadConfig({ STARTUP_TIMEOUT_SEC: '-1' }), /STARTUP_TIMEOUT_SEC/)
})
