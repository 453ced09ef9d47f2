import { agentToken } from '../domain/agent-token.js'
import { NAME_PATTERN } from '../domain/kernel-info.js'
import { defineCommand } from './command.js'
import { ExitCode, usageError } from './exit-codes.js'
import { jsonLines, print } from './output.js'

export const agentTokenCommand = defineCommand({
  name: 'agent-token',
  args: ['agent_id'],
  options: {},
  summary: 'print an agent\'s own token, signed with AGENT_TOKEN_SECRET (no service needed)',
  description: 'For the operator to hand to that agent: it may then report presence and reconcile as itself ' +
    'only. AGENT_TOKEN_SECRET must be the service\'s own.',
  async run ({ args, json, env, badUsage }) {
    if (!NAME_PATTERN.test(args.agent_id)) throw badUsage(`<agent_id> must match ${NAME_PATTERN.source}`)
    // Loaded here only: the service's configuration brings its schema library, half a second that
    // the commands talking to the service should not pay.
    const { isUsableToken } = await import('../config.js')
    const secret = env['AGENT_TOKEN_SECRET']
    if (secret === undefined || !isUsableToken(secret)) {
      throw usageError('AGENT_TOKEN_SECRET is not set, or is blank or padded with whitespace')
    }
    const token = agentToken(secret, args.agent_id)
    print(json ? jsonLines([{ agent_id: args.agent_id, token }]) : `${token}\n`)
    return ExitCode.DONE
  },
})
