import t from 'tap'
import { loadConfig } from '../src/config.js'

t.test('defaults follow the contract', async (t) => {
  t.same(loadConfig({}), { host: '127.0.0.1', port: 8080, logLevel: 'info', agentRpcConcurrency: 32 })
})

t.test('values come from the environment, coerced', async (t) => {
  const config = loadConfig({ HOST: '0.0.0.0', PORT: '0', LOG_LEVEL: 'warn', AGENT_RPC_CONCURRENCY: '4' })
  t.same(config, { host: '0.0.0.0', port: 0, logLevel: 'warn', agentRpcConcurrency: 4 })
})

t.test('a bad value fails, naming the variable', async (t) => {
  t.throws(() => loadConfig({ PORT: '70000' }), /PORT/)
  t.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/)
  t.throws(() => loadConfig({ AGENT_RPC_CONCURRENCY: '0' }), /AGENT_RPC_CONCURRENCY/)
  t.throws(() => loadConfig({ AGENT_RPC_CONCURRENCY: '2.5' }), /AGENT_RPC_CONCURRENCY/)
  t.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/)
})
