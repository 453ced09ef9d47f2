import type { CloudEvent } from '../../clients/typescript/client.js'
import { EVENT_TYPES, EventType } from '../domain/events.js'
import { choiceOption, defineCommand } from './command.js'
import { dataOf, ExitCode } from './exit-codes.js'
import { jsonLines, print, streamingTable, type Column } from './output.js'
import { query } from './requests.js'

/** The most `GET /v1/events` gives per page: a reader far behind catches up in few round trips. */
const PAGE_SIZE = 1000
/** The longest the service holds a long-poll open (contract §3). */
const WAIT_SEC = 30

/** The field of its data each type names its subject by, which DATA does not repeat. */
const SUBJECT_FIELD: Readonly<Record<EventType, string>> = {
  [EventType.KERNEL_TERMINATED]: 'kernel_id',
  [EventType.SWEEP_FINISHED]: 'sweep_id',
  [EventType.AGENT_DECOMMISSIONED]: 'agent_id',
}

// Widths reserved for what the cells hold (an id that grows, an ISO time, the longest type, a UUID),
// so that rows printed as they come line up.
const EVENT_COLUMNS: ReadonlyArray<Column<CloudEvent>> = [
  { header: 'ID', width: 6, cell: (event) => event.id },
  { header: 'TIME', width: 24, cell: (event) => event.time },
  { header: 'TYPE', width: 20, cell: (event) => event.type },
  { header: 'SUBJECT', width: 36, cell: (event) => event.subject },
  {
    header: 'DATA',
    cell: (event) => Object.entries(event.data)
      .filter(([name]) => name !== SUBJECT_FIELD[event.type])
      .map(([name, value]) => `${name}=${String(value ?? '-')}`)
      .join(' '),
  },
]

/** Aborted by Ctrl-C or SIGTERM, for as long as `work` runs: following ends there, and that is success. */
async function untilInterrupted (work: (signal: AbortSignal) => Promise<ExitCode>): Promise<ExitCode> {
  const interrupted = new AbortController()
  const interrupt = (): void => { interrupted.abort() }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    return await work(interrupted.signal)
  } catch (error) {
    if (interrupted.signal.aborted) return ExitCode.DONE
    throw error
  } finally {
    process.off('SIGINT', interrupt)
    process.off('SIGTERM', interrupt)
  }
}

export const eventsCommand = defineCommand({
  name: 'events',
  args: [],
  options: {
    follow: { type: 'boolean', description: 'keep printing events as they are committed, until Ctrl-C' },
    after: { type: 'string', placeholder: 'ID', description: 'only events after event ID (default: from the oldest kept)' },
    types: { type: 'string', placeholder: 'T,…', description: `only events of these types, comma-separated (${EVENT_TYPES.join(', ')})` },
  },
  summary: 'print the event log, oldest first; --follow waits for more',
  description: 'Following long-polls the service, so it survives idle proxies; if it stops on an error, run it again ' +
    'with --after and the last ID printed.',
  async run ({ options, json, client }) {
    const types = options.types?.split(',').map((type) => choiceOption('types', type, EVENT_TYPES)).join(',')
    const follow = options.follow === true
    const rows = streamingTable(EVENT_COLUMNS)
    // Only a follow is ended by Ctrl-C as a success: a listing cut short is not done.
    const read = async (signal: AbortSignal | null): Promise<ExitCode> => {
      let after = options.after
      // Printed with the first answer, so that a refused request prints nothing but its error.
      let header = json ? '' : rows.header
      for (;;) {
        const { items } = await dataOf(client().GET('/v1/events', {
          params: { query: query({ after, types, limit: PAGE_SIZE, wait_sec: follow ? WAIT_SEC : 0 }) },
          signal,
        }))
        print(header + (json ? jsonLines(items) : items.map(rows.row).join('')))
        header = ''
        if (!follow && items.length < PAGE_SIZE) return ExitCode.DONE
        // The last id printed rather than `next_cursor`: before any event that is "0", which the
        // service calls expired once old events are pruned, where no cursor reads from the oldest kept.
        after = items.at(-1)?.id ?? after
      }
    }
    return follow ? untilInterrupted(read) : read(null)
  },
})
