import type { Sweep } from '../../clients/typescript/client.js'

/** How the command ended (contract §8), for scripts to branch on. */
export const ExitCode = {
  DONE: 0,
  FAILED: 1,
  USAGE: 2,
  GUARD_TRIPPED: 3,
  BUSY: 4,
  UNAVAILABLE: 5,
} as const

export type ExitCode = typeof ExitCode[keyof typeof ExitCode]

/** Ends the command: `message` goes to standard error, `exitCode` to the shell. */
export class CliError extends Error {
  override readonly name = 'CliError'

  constructor (readonly exitCode: ExitCode, message: string) {
    super(message)
  }
}

export function usageError (message: string): CliError {
  return new CliError(ExitCode.USAGE, message)
}

/**
 * A `400` is bad usage too: every request the client sends is well-formed by its types, so what the
 * service rejects is a value the user gave (a malformed id, a name out of pattern, a limit out of range).
 */
function exitCodeOfStatus (status: number): ExitCode {
  switch (status) {
    case 400: return ExitCode.USAGE
    case 409: return ExitCode.BUSY
    case 503: return ExitCode.UNAVAILABLE
    default: return ExitCode.FAILED
  }
}

/** What a sweep that ran means to the shell: a tripped guard is not "done" (nothing was terminated). */
export function exitCodeOfSweep (sweep: Pick<Sweep, 'outcome'>): ExitCode {
  switch (sweep.outcome) {
    case 'completed':
    case 'dry_run':
      return ExitCode.DONE
    case 'guard_tripped':
      return ExitCode.GUARD_TRIPPED
    case 'failed':
      return ExitCode.FAILED
  }
}

/** The problem's own words; a failed sweep also names its record, which can be read back. */
function messageOf (status: number, body: unknown): string {
  if (typeof body === 'object' && body !== null && 'detail' in body && typeof body.detail === 'string') {
    const recorded = 'sweep_id' in body && typeof body.sweep_id === 'string' ? ` (recorded as sweep ${body.sweep_id})` : ''
    return `${body.detail}${recorded}`
  }
  // Not a problem document: something in front of the service (a proxy, another server) answered.
  return `the service answered ${status}${typeof body === 'string' && body !== '' ? `: ${body.slice(0, 200)}` : ''}`
}

/** What a call of the typed client resolves to; an error body is never undefined, which tells the two apart. */
export type Answer<Data> =
  | { readonly data: Data, readonly error?: never, readonly response: Response }
  | { readonly data?: never, readonly error: NonNullable<unknown>, readonly response: Response }

/**
 * The data of a call of the typed client, or a `CliError` carrying the problem's `detail` and the
 * exit code of its status. A request that reaches no service (refused, unknown host) is an error
 * of its own; an aborted one (Ctrl-C while following) is left to the caller as it is.
 */
export async function dataOf<Data> (call: Promise<Answer<Data>>): Promise<Data> {
  let answer: Answer<Data>
  try {
    answer = await call
  } catch (error) {
    // fetch reports every network failure as a TypeError whose cause says what happened.
    if (!(error instanceof TypeError)) throw error
    const cause = error.cause instanceof Error ? error.cause : error
    const code = (cause as NodeJS.ErrnoException).code
    throw new CliError(ExitCode.FAILED, `cannot reach the service: ${cause.message === '' && code !== undefined ? code : cause.message}`)
  }
  if (answer.error !== undefined) throw new CliError(exitCodeOfStatus(answer.response.status), messageOf(answer.response.status, answer.error))
  return answer.data
}
