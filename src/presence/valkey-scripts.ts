/*
 * Server-side scripts, so a batch is one round trip and the server's clock is read once for it
 * (contract §4). A key of another Redis type is left untouched by the check and reads as "no
 * record"; a heartbeat replaces it, since agents own these keys.
 */

/**
 * Stage-1 check. KEYS: the kernels' presence keys, then the agents' last-check keys.
 * ARGV: number of kernel keys, kernel key TTL, agent key TTL.
 * Returns `{ now, presence_1, last_presence_1, agent_id_1, presence_2, … }`; missing fields are nil.
 * The caller compares `agent_id` with the kernel's agent (`classifyPresence`), so the rule has one home.
 */
export const CHECK_PRESENCE_LUA = `
local now = redis.call('TIME')[1]
local kernels = tonumber(ARGV[1])
local reply = { now }
for i = 1, kernels do
  local key = KEYS[i]
  local written = redis.pcall('HSET', key, 'last_check', now)
  if type(written) == 'table' and written.err then
    reply[#reply + 1] = false
    reply[#reply + 1] = false
    reply[#reply + 1] = false
  else
    redis.call('EXPIRE', key, ARGV[2])
    local fields = redis.call('HMGET', key, 'presence', 'last_presence', 'agent_id')
    reply[#reply + 1] = fields[1]
    reply[#reply + 1] = fields[2]
    reply[#reply + 1] = fields[3]
  end
end
for i = kernels + 1, #KEYS do
  redis.call('SET', KEYS[i], now, 'EX', ARGV[3])
end
return reply
`

/**
 * One agent's heartbeats. KEYS: presence keys. ARGV: TTL, then one character per key, '1'
 * (running) or '0', then the agent's id, written as `agent_id`. Returns the number of keys written.
 */
export const UPDATE_PRESENCE_LUA = `
local now = redis.call('TIME')[1]
local flags = ARGV[2]
local agent = ARGV[3]
for i, key in ipairs(KEYS) do
  local flag = string.sub(flags, i, i)
  local written = redis.pcall('HSET', key, 'presence', flag, 'last_presence', now, 'agent_id', agent)
  if type(written) == 'table' and written.err then
    redis.call('DEL', key)
    redis.call('HSET', key, 'presence', flag, 'last_presence', now, 'agent_id', agent)
  end
  redis.call('EXPIRE', key, ARGV[1])
end
return #KEYS
`
