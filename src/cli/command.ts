import { parseArgs } from 'node:util'
import { createSweeperClient, type SweeperClient } from '../../clients/typescript/client.js'
import { CliError, ExitCode, usageError } from './exit-codes.js'

export const PROGRAM = 'kernel-sweeper'
const DEFAULT_URL = 'http://127.0.0.1:8080'

export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly description: string
  /** What the value stands for in the help (`--group G`); string options only. */
  readonly placeholder?: string
}

type OptionSpecs = Readonly<Record<string, OptionSpec>>

type OptionValues<Options extends OptionSpecs> = {
  readonly [Name in keyof Options]?: Options[Name]['type'] extends 'string' ? string : boolean
}

export interface Input<Options extends OptionSpecs, Args extends readonly string[]> {
  /** Named as the command's `args`, all given. */
  readonly args: { readonly [Name in Args[number]]: string }
  readonly options: OptionValues<Options>
  /** `--json`: every command has it. */
  readonly json: boolean
  readonly env: NodeJS.ProcessEnv
  /** Bad usage of this command: `message`, then its usage line. */
  badUsage (message: string): CliError
  /** The service's client, made on first use, so commands that need no service never read its settings. */
  client (): SweeperClient
}

export interface CommandSpec<Options extends OptionSpecs, Args extends readonly string[]> {
  /** The words that name it: `sweeps show`. */
  readonly name: string
  readonly args: Args
  readonly options: Options
  /** One line, for the list of commands. */
  readonly summary: string
  /** More, for the command's own help. */
  readonly description?: string
  readonly run: (input: Input<Options, Args>) => Promise<ExitCode>
}

export interface Command {
  readonly name: string
  /** Its name and arguments: `sweeps show <sweep_id>`. */
  readonly synopsis: string
  readonly summary: string
  /** Runs with `argv`, the arguments after the command's name. */
  execute (argv: readonly string[], env: NodeJS.ProcessEnv): Promise<ExitCode>
}

const COMMON_OPTIONS = {
  json: { type: 'boolean', description: 'print JSON for scripts, one object per line, instead of a table' },
  help: { type: 'boolean', description: 'show this help' },
} as const satisfies OptionSpecs

function optionLines (options: OptionSpecs): string[] {
  const labels = Object.entries(options).map(([name, spec]) =>
    `${name === 'help' ? '-h, ' : ''}--${name}${spec.placeholder === undefined ? '' : ` ${spec.placeholder}`}`)
  const width = Math.max(...labels.map((label) => label.length))
  return Object.values(options).map((spec, index) => `  ${labels[index]!.padEnd(width)}  ${spec.description}`)
}

/** The service at `KERNEL_SWEEPER_URL` with `KERNEL_SWEEPER_TOKEN` as its bearer token. */
function serviceClient (env: NodeJS.ProcessEnv): SweeperClient {
  const url = env['KERNEL_SWEEPER_URL'] ?? DEFAULT_URL
  if (!URL.canParse(url) || !['http:', 'https:'].includes(new URL(url).protocol)) {
    throw usageError(`KERNEL_SWEEPER_URL must be an http(s) URL, not ${JSON.stringify(url)}`)
  }
  const token = env['KERNEL_SWEEPER_TOKEN']
  // An empty variable is one left unset in a script, not a token.
  return createSweeperClient(url, token === '' ? undefined : token)
}

/** A command from its spec: its `--help`, strict parsing of its arguments, and their count. */
export function defineCommand<const Options extends OptionSpecs, const Args extends readonly string[]> (
  spec: CommandSpec<Options, Args>
): Command {
  const allOptions: OptionSpecs = { ...spec.options, ...COMMON_OPTIONS }
  const synopsis = `${spec.name}${spec.args.map((arg) => ` <${arg}>`).join('')}`
  const usage = `${PROGRAM} ${synopsis} [options]`
  const help = [
    `usage: ${usage}`, '', spec.summary, ...(spec.description === undefined ? [] : ['', spec.description]),
    '', 'options:', ...optionLines(allOptions), '',
  ].join('\n')
  const badUsage = (message: string): CliError => usageError(`${message}\nusage: ${usage}  (see --help)`)

  return {
    name: spec.name,
    synopsis,
    summary: spec.summary,
    async execute (argv, env) {
      let parsed
      try {
        parsed = parseArgs({
          args: [...argv],
          options: Object.fromEntries(Object.entries(allOptions).map(([name, { type }]) =>
            [name, name === 'help' ? { type, short: 'h' } : { type }])),
          allowPositionals: true,
          strict: true,
        })
      } catch (error) {
        // parseArgs says which option is unknown or lacks its value.
        throw badUsage((error as Error).message)
      }
      const { values, positionals } = parsed
      if (values['help'] === true) {
        process.stdout.write(help)
        return ExitCode.DONE
      }
      if (positionals.length < spec.args.length) throw badUsage(`missing <${spec.args[positionals.length]!}>`)
      if (positionals.length > spec.args.length) throw badUsage(`unexpected argument ${JSON.stringify(positionals[spec.args.length])}`)
      let client: SweeperClient | undefined
      return spec.run({
        args: Object.fromEntries(spec.args.map((name, index) => [name, positionals[index]!])) as Input<Options, Args>['args'],
        // parseArgs was given exactly these options, with these types.
        options: values as OptionValues<Options>,
        json: values['json'] === true,
        env,
        badUsage,
        client: () => (client ??= serviceClient(env)),
      })
    },
  }
}

/** `--name N`: a whole number, or bad usage. */
export function integerOption (name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw usageError(`--${name} must be a whole number, not ${JSON.stringify(value)}`)
  return Number(value)
}

/** `--name V`: one of `choices`, or bad usage naming them. */
export function choiceOption<Choice extends string> (name: string, value: string | undefined, choices: readonly Choice[]): Choice | undefined {
  if (value === undefined) return undefined
  if (!(choices as readonly string[]).includes(value)) throw usageError(`--${name} must be one of ${choices.join(', ')}; not ${JSON.stringify(value)}`)
  return value as Choice
}
