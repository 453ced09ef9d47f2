#!/usr/bin/env node
// `kernel-sweeper <command> …`: the command-line client of the service (contract §8).
import { agentTokenCommand } from './agent-token.js'
import { agentsCommand, decommissionCommand } from './agents.js'
import { PROGRAM, type Command } from './command.js'
import { eventsCommand } from './events.js'
import { CliError, ExitCode } from './exit-codes.js'
import { kernelCommand, kernelsCommand } from './kernels.js'
import { sweepCommand, sweepsCommand, sweepsShowCommand } from './sweeps.js'

const COMMANDS: readonly Command[] = [
  sweepCommand, sweepsCommand, sweepsShowCommand, kernelsCommand, kernelCommand,
  agentsCommand, decommissionCommand, eventsCommand, agentTokenCommand,
]
const BY_NAME = new Map(COMMANDS.map((command) => [command.name, command]))

function overview (): string {
  const width = Math.max(...COMMANDS.map((command) => command.synopsis.length))
  return [
    `usage: ${PROGRAM} <command> [options]`,
    '',
    'commands:',
    ...COMMANDS.map((command) => `  ${command.synopsis.padEnd(width)}  ${command.summary}`),
    '',
    `Every command takes --json (JSON for scripts, one object per line) and --help (${PROGRAM} <command> --help).`,
    '',
    'environment:',
    '  KERNEL_SWEEPER_URL    the service (default http://127.0.0.1:8080)',
    '  KERNEL_SWEEPER_TOKEN  bearer token: the service\'s API_TOKEN',
    '',
    'exit codes:',
    '  0 done   1 error   2 bad usage   3 guard tripped   4 busy (409)   5 unavailable (503)',
    '',
  ].join('\n')
}

/** The command named by the leading words of `argv` (`sweeps show` before `sweeps`), and the arguments after them. */
function commandOf (argv: readonly string[]): { command: Command, rest: readonly string[] } | undefined {
  for (const words of [2, 1]) {
    const command = argv.length >= words ? BY_NAME.get(argv.slice(0, words).join(' ')) : undefined
    if (command !== undefined) return { command, rest: argv.slice(words) }
  }
  return undefined
}

async function main (argv: readonly string[]): Promise<ExitCode> {
  const [first] = argv
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(overview())
    return ExitCode.DONE
  }
  const found = commandOf(argv)
  if (found === undefined) {
    process.stderr.write(first === undefined ? overview() : `${PROGRAM}: unknown command ${JSON.stringify(first)}; see ${PROGRAM} --help\n`)
    return ExitCode.USAGE
  }
  try {
    return await found.command.execute(found.rest, process.env)
  } catch (error) {
    if (!(error instanceof CliError)) throw error
    process.stderr.write(`${PROGRAM}: ${error.message}\n`)
    return error.exitCode
  }
}

// A reader that leaves (`… | head`) has all it wanted: end quietly rather than with a write error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error
  process.exit(ExitCode.DONE)
})
process.exitCode = await main(process.argv.slice(2))
