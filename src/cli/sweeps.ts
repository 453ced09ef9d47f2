import type { Sweep } from '../../clients/typescript/client.js'
import { defineCommand, integerOption } from './command.js'
import { dataOf, ExitCode, exitCodeOfSweep, type Answer } from './exit-codes.js'
import { fields, jsonLines, orDash, print, table, type Column } from './output.js'
import { query } from './requests.js'

/** A kernel the sweep did not simply find alive: dead (terminated or not), or skipped. */
interface Verdict {
  readonly kernelId: string
  readonly fromStatus: string
  readonly verdict: 'terminated' | 'dead' | 'skipped'
  readonly detail: string
}

const VERDICT_COLUMNS: ReadonlyArray<Column<Verdict>> = [
  { header: 'KERNEL_ID', cell: (row) => row.kernelId },
  { header: 'FROM_STATUS', cell: (row) => row.fromStatus },
  { header: 'VERDICT', cell: (row) => row.verdict },
  { header: 'DETAIL', cell: (row) => row.detail },
]

/**
 * The kernels worth a line: the alive ones are only counted (a group may have thousands). A dead
 * kernel that was not terminated was held back by a dry run, the guard, or a change meanwhile.
 */
function verdictsOf (sweep: Sweep): Verdict[] {
  const terminated = new Set(sweep.terminated)
  const fromStatus = new Map(sweep.result.successes.map((success) => [success.kernel_id, success.from_status]))
  return [
    ...sweep.result.failures.map((failure): Verdict => ({
      kernelId: failure.kernel_id,
      fromStatus: failure.from_status,
      verdict: terminated.has(failure.kernel_id) ? 'terminated' : 'dead',
      detail: orDash(failure.reason),
    })),
    ...sweep.skipped.map((skip): Verdict => ({
      kernelId: skip.kernel_id,
      fromStatus: orDash(fromStatus.get(skip.kernel_id)),
      verdict: 'skipped',
      detail: skip.confirmations === undefined ? skip.cause : `${skip.cause} (${skip.confirmations})`,
    })),
  ]
}

/** One sweep: its fields, then its dead and skipped kernels. */
function printSweep (sweep: Sweep, json: boolean): void {
  if (json) {
    print(jsonLines([sweep]))
    return
  }
  const { kernels, successes, failures, terminated, skipped } = sweep.counts
  print(fields([
    ['sweep_id', sweep.sweep_id],
    ['scaling_group', sweep.scaling_group],
    ['handler', sweep.handler],
    ['outcome', sweep.outcome],
    ['dry_run', String(sweep.dry_run)],
    ['forced', String(sweep.forced)],
    ['started_at', sweep.started_at],
    ['finished_at', sweep.finished_at],
    ['kernels', `${kernels} (successes ${successes}, failures ${failures}, terminated ${terminated}, skipped ${skipped})`],
    ['error', orDash(sweep.error)],
  ]))
  print(`\n${table(VERDICT_COLUMNS, verdictsOf(sweep))}`)
}

const SWEEP_COLUMNS: ReadonlyArray<Column<Sweep>> = [
  { header: 'SWEEP_ID', cell: (sweep) => sweep.sweep_id },
  { header: 'GROUP', cell: (sweep) => sweep.scaling_group },
  { header: 'HANDLER', cell: (sweep) => sweep.handler },
  { header: 'OUTCOME', cell: (sweep) => sweep.outcome },
  { header: 'DRY_RUN', cell: (sweep) => String(sweep.dry_run) },
  { header: 'FORCED', cell: (sweep) => String(sweep.forced) },
  { header: 'STARTED_AT', cell: (sweep) => sweep.started_at },
  { header: 'KERNELS', cell: (sweep) => String(sweep.counts.kernels) },
  { header: 'FAILURES', cell: (sweep) => String(sweep.counts.failures) },
  { header: 'TERMINATED', cell: (sweep) => String(sweep.counts.terminated) },
  { header: 'SKIPPED', cell: (sweep) => String(sweep.counts.skipped) },
]

/** Shared by `sweep` and `agents decommission`, which both run a recorded sweep. */
export const SWEEP_RUN_OPTIONS = {
  'dry-run': { type: 'boolean', description: 'check and report, change nothing' },
  force: { type: 'boolean', description: 'bypass the mass-termination guard' },
} as const

/** The body of a sweep-running request, from `SWEEP_RUN_OPTIONS`. */
export function sweepRequest (options: { readonly 'dry-run'?: boolean, readonly force?: boolean }): { dry_run: boolean, force: boolean } {
  return { dry_run: options['dry-run'] === true, force: options.force === true }
}

/** Prints the sweep a request ran, and says by the exit code how it ended. */
export async function reportSweep (request: Promise<Answer<Sweep>>, json: boolean): Promise<ExitCode> {
  const sweep = await dataOf(request)
  printSweep(sweep, json)
  return exitCodeOfSweep(sweep)
}

export const SWEEP_EXIT_CODES = 'Exits 0 when the sweep completed or was a dry run, 3 when the mass-termination guard ' +
  'tripped (nothing terminated), 4 when the scaling group is busy with another sweep, 5 when the service is unavailable.'

export const sweepCommand = defineCommand({
  name: 'sweep',
  args: ['group'],
  options: SWEEP_RUN_OPTIONS,
  summary: 'sweep a scaling group for stale kernels',
  description: 'Kernels whose agent confirms them dead move to TERMINATED, unless --dry-run, or unless the ' +
    `mass-termination guard trips (--force bypasses it). ${SWEEP_EXIT_CODES}`,
  run: ({ args, options, json, client }) => reportSweep(client().POST('/v1/scaling-groups/{scaling_group}/sweeps', {
    params: { path: { scaling_group: args.group } },
    body: sweepRequest(options),
  }), json),
})

export const sweepsCommand = defineCommand({
  name: 'sweeps',
  args: [],
  options: {
    group: { type: 'string', placeholder: 'G', description: 'only sweeps of scaling group G' },
    limit: { type: 'string', placeholder: 'N', description: 'at most N sweeps, 1 to 500 (default 50)' },
  },
  summary: 'list recorded sweeps, newest first',
  async run ({ options, json, client }) {
    const limit = integerOption('limit', options.limit)
    const { items } = await dataOf(client().GET('/v1/sweeps', {
      params: { query: query({ scaling_group: options.group, limit }) },
    }))
    print(json ? jsonLines(items) : table(SWEEP_COLUMNS, items))
    return ExitCode.DONE
  },
})

export const sweepsShowCommand = defineCommand({
  name: 'sweeps show',
  args: ['sweep_id'],
  options: {},
  summary: 'show one recorded sweep, with its dead and skipped kernels',
  async run ({ args, json, client }) {
    printSweep(await dataOf(client().GET('/v1/sweeps/{sweep_id}', { params: { path: { sweep_id: args.sweep_id } } })), json)
    return ExitCode.DONE
  },
})
