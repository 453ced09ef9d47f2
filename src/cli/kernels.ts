import type { Kernel, ResponseBody } from '../../clients/typescript/client.js'
import { KERNEL_STATUSES } from '../domain/kernel-status.js'
import { choiceOption, defineCommand } from './command.js'
import { dataOf, ExitCode } from './exit-codes.js'
import { fields, jsonLines, orDash, print, table, type Column } from './output.js'
import { allPages, query } from './requests.js'

type StatusChange = ResponseBody<'/v1/kernels/{kernel_id}/history', 'get', 200>['items'][number]

const KERNEL_COLUMNS: ReadonlyArray<Column<Kernel>> = [
  { header: 'KERNEL_ID', cell: (kernel) => kernel.kernel_id },
  { header: 'GROUP', cell: (kernel) => kernel.scaling_group },
  { header: 'AGENT', cell: (kernel) => orDash(kernel.agent_id) },
  { header: 'STATUS', cell: (kernel) => kernel.status },
  { header: 'STATUS_INFO', cell: (kernel) => orDash(kernel.status_info) },
  { header: 'STATUS_CHANGED_AT', cell: (kernel) => kernel.status_changed_at },
  { header: 'VERSION', cell: (kernel) => String(kernel.version) },
]

const HISTORY_COLUMNS: ReadonlyArray<Column<StatusChange>> = [
  { header: 'CHANGED_AT', cell: (change) => change.changed_at },
  { header: 'FROM_STATUS', cell: (change) => change.from_status },
  { header: 'TO_STATUS', cell: (change) => change.to_status },
  { header: 'REASON', cell: (change) => orDash(change.reason) },
  { header: 'SWEEP_ID', cell: (change) => orDash(change.sweep_id) },
]

export const kernelsCommand = defineCommand({
  name: 'kernels',
  args: [],
  options: {
    group: { type: 'string', placeholder: 'G', description: 'only kernels of scaling group G' },
    status: { type: 'string', placeholder: 'S', description: `only kernels in status S (${KERNEL_STATUSES.join(', ')})` },
    agent: { type: 'string', placeholder: 'A', description: 'only kernels of agent A' },
  },
  summary: 'list kernels',
  async run ({ options, json, client }) {
    const status = choiceOption('status', options.status, KERNEL_STATUSES)
    const kernels = await allPages((cursor, limit) => client().GET('/v1/kernels', {
      params: { query: query({ scaling_group: options.group, status, agent_id: options.agent, cursor, limit }) },
    }))
    print(json ? jsonLines(kernels) : table(KERNEL_COLUMNS, kernels))
    return ExitCode.DONE
  },
})

export const kernelCommand = defineCommand({
  name: 'kernel',
  args: ['kernel_id'],
  options: {},
  summary: 'show one kernel and its status history',
  description: 'With --json, the kernel with its history as `history` (oldest first).',
  async run ({ args, json, client }) {
    const path = { kernel_id: args.kernel_id }
    const [kernel, { items: history }] = await Promise.all([
      dataOf(client().GET('/v1/kernels/{kernel_id}', { params: { path } })),
      dataOf(client().GET('/v1/kernels/{kernel_id}/history', { params: { path } })),
    ])
    if (json) {
      print(jsonLines([{ ...kernel, history }]))
      return ExitCode.DONE
    }
    print(fields([
      ['kernel_id', kernel.kernel_id],
      ['session_id', kernel.session_id],
      ['scaling_group', kernel.scaling_group],
      ['agent_id', orDash(kernel.agent_id)],
      ['status', kernel.status],
      ['status_info', orDash(kernel.status_info)],
      ['status_changed_at', kernel.status_changed_at],
      ['terminated_at', orDash(kernel.terminated_at)],
      ['created_at', kernel.created_at],
      ['version', String(kernel.version)],
    ]))
    print(`\n${table(HISTORY_COLUMNS, history)}`)
    return ExitCode.DONE
  },
})
