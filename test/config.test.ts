import t from 'tap'
import { loadConfig } from '../src/config.js'

t.test('defaults follow the contract', async (t) => {
  t.same(loadConfig({}), {
    host: '127.0.0.1',
    port: 8080,
    databaseUrl: null,
    dataDir: './.data',
    valkeyUrl: null,
    apiToken: null,
    agentToken: null,
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
    LOG_LEVEL: 'warn',
  }), {
    host: '0.0.0.0',
    port: 0,
    databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
    dataDir: '/var/lib/kernel-sweeper',
    valkeyUrl: 'redis://127.0.0.1:6379/2',
    apiToken: 'a',
    agentToken: 'b',
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
    logLevel: 'warn',
  })
})

t.test('a bad value fails, naming the variable', async (t) => {
  const bad: Array<[string, string]> = [
    ['PORT', '70000'], ['PORT', 'eighty'], ['AGENT_RPC_CONCURRENCY', '0'], ['AGENT_RPC_CONCURRENCY', '2.5'],
    ['LOG_LEVEL', 'loud'], ['DATABASE_URL', ''], ['VALKEY_URL', 'http://127.0.0.1:6379'], ['GUARD_MAX_RATIO', '1.5'],
    ['GUARD_MIN_KERNELS', '0'], ['SWEEP_LOCK_LIFETIME_SEC', '0'], ['SWEEP_CONFIRMATIONS', '0'], ['SWEEP_CONFIRMATIONS', '11'], ['PRESENCE_STALENESS_SEC', '-1'], ['API_TOKEN', ''],
    ['AGENT_RPC_BATCH_SIZE', '0'], ['AGENT_RPC_BATCH_SIZE', '10001'], ['AGENT_BATCH_RETRY_SEC', '-1'], ['EVENT_RETENTION_HOURS', '0'],
  ]
  for (const [name, value] of bad) t.throws(() => loadConfig({ [name]: value }), new RegExp(name), `${name}=${value}`)
})
