import type { Agent } from '../../clients/typescript/client.js'
import { AGENT_STATUSES } from '../domain/agent.js'
import { choiceOption, defineCommand } from './command.js'
import { ExitCode } from './exit-codes.js'
import { jsonLines, orDash, print, table, type Column } from './output.js'
import { allPages, query } from './requests.js'
import { reportSweep, SWEEP_EXIT_CODES, SWEEP_RUN_OPTIONS, sweepRequest } from './sweeps.js'

const AGENT_COLUMNS: ReadonlyArray<Column<Agent>> = [
  { header: 'AGENT_ID', cell: (agent) => agent.agent_id },
  { header: 'GROUP', cell: (agent) => agent.scaling_group },
  { header: 'STATUS', cell: (agent) => agent.status },
  { header: 'ADDRESS', cell: (agent) => agent.address },
  { header: 'REGISTERED_AT', cell: (agent) => agent.registered_at },
  { header: 'LAST_REACHED_AT', cell: (agent) => orDash(agent.last_reached_at) },
  { header: 'UNREACHABLE_SINCE', cell: (agent) => orDash(agent.unreachable_since) },
]

export const agentsCommand = defineCommand({
  name: 'agents',
  args: [],
  options: {
    group: { type: 'string', placeholder: 'G', description: 'only agents of scaling group G' },
    status: { type: 'string', placeholder: 'S', description: `only agents in status S (${AGENT_STATUSES.join(', ')})` },
  },
  summary: 'list registered agents',
  async run ({ options, json, client }) {
    const status = choiceOption('status', options.status, AGENT_STATUSES)
    const agents = await allPages((cursor, limit) => client().GET('/v1/agents', {
      params: { query: query({ scaling_group: options.group, status, cursor, limit }) },
    }))
    print(json ? jsonLines(agents) : table(AGENT_COLUMNS, agents))
    return ExitCode.DONE
  },
})

export const decommissionCommand = defineCommand({
  name: 'agents decommission',
  args: ['agent_id'],
  options: SWEEP_RUN_OPTIONS,
  summary: 'terminate every kernel of an agent and mark it DECOMMISSIONED',
  description: 'Runs a recorded sweep of handler decommission-agent in the agent\'s scaling group; the agent is ' +
    `asked nothing, and is DECOMMISSIONED once the sweep completes, until it registers again. ${SWEEP_EXIT_CODES}`,
  run: ({ args, options, json, client }) => reportSweep(client().POST('/v1/agents/{agent_id}/decommission', {
    params: { path: { agent_id: args.agent_id } },
    body: sweepRequest(options),
  }), json),
})
