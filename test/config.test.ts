import t from 'tap'
import { loadConfig } from '../src/config.js'

t.test('defaults follow the contract', async (t) => {
  t.same(loadConfig({}), {
    host: '127.0.0.1', port: 8080, logLevel: 'info', databaseUrl: null, dataDir: './.data', agentRpcConcurrency: 32,
  })
})

t.test('values come from the environment, coerced', async (t) => {
  const config = loadConfig({
    HOST: '0.0.0.0',
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
    DATA_DIR: '/var/lib/kernel-sweeper',
    AGENT_RPC_CONCURRENCY: '4',
  })
  t.same(config, {
    host: '0.0.0.0',
    port: 0,
    logLevel: 'warn',
    databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
    dataDir: '/var/lib/kernel-sweeper',
    agentRpcConcurrency: 4,
  })
})

t.test('a bad value fails, naming the variable', async (t) => {
  t.throws(() => loadConfig({ PORT: '70000' }), /PORT/)
  t.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/)
  t.throws(() => loadConfig({ AGENT_RPC_CONCURRENCY: '0' }), /AGENT_RPC_CONCURRENCY/)
  t.throws(() => loadConfig({ AGENT_RPC_CONCURRENCY: '2.5' }), /AGENT_RPC_CONCURRENCY/)
  t.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/)
  t.throws(() => loadConfig({ DATABASE_URL: '' }), /DATABASE_URL/)
})
