// `npm run agent-token -- <agent_id>`: prints agent A's own token, signed with AGENT_TOKEN_SECRET
// from the environment (contract §3), for the operator to hand to that agent. No service needed.
import { isUsableToken } from './config.js'
import { agentToken } from './domain/agent-token.js'
import { NAME_PATTERN } from './domain/kernel-info.js'

const [agentId, ...rest] = process.argv.slice(2)
const secret = process.env['AGENT_TOKEN_SECRET']
if (agentId === undefined || rest.length > 0 || !NAME_PATTERN.test(agentId)) {
  process.stderr.write('usage: npm run agent-token -- <agent_id>   (with AGENT_TOKEN_SECRET set)\n')
  process.exit(2)
}
if (secret === undefined || !isUsableToken(secret)) {
  process.stderr.write('agent-token: AGENT_TOKEN_SECRET is not set, or is blank or padded with whitespace\n')
  process.exit(2)
}
process.stdout.write(`${agentToken(secret, agentId)}\n`)
