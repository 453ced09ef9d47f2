import t from 'tap'
import { agentToken } from '../../src/domain/agent-token.js'
import { freePort } from '../helpers/redis.js'
import { runCli } from './fixtures/cli-process.js'

// What needs no service: help, bad usage, agent-token, and a service that is not there.

const COMMANDS = ['sweep', 'sweeps', 'sweeps show', 'kernels', 'kernel', 'agents', 'agents decommission', 'events', 'agent-token']

t.test('--help: the overview lists every command; each command has its own, on standard output, exit 0', async (t) => {
  const overview = await runCli(['--help'])
  t.match(overview, { code: 0, stderr: '' })
  t.match(overview.stdout, /^usage: kernel-sweeper <command> \[options\]\n/)
  for (const command of COMMANDS) t.match(overview.stdout, new RegExp(`\\n {2}${command}\\b`), `lists ${command}`)
  t.match(overview.stdout, /KERNEL_SWEEPER_URL/)
  t.match(overview.stdout, /KERNEL_SWEEPER_TOKEN/)
  t.match(overview.stdout, /3 guard tripped {3}4 busy \(409\) {3}5 unavailable \(503\)/)

  const helps = await Promise.all(COMMANDS.map((command) => runCli([...command.split(' '), '--help'])))
  helps.forEach((help, index) => {
    const command = COMMANDS[index]!
    t.match(help, { code: 0, stderr: '' }, `${command} --help`)
    t.match(help.stdout, new RegExp(`^usage: kernel-sweeper ${command}\\b.*\\[options\\]\\n`), `${command}: its usage line`)
    t.match(help.stdout, /\n {2}--json {2,}.*\n {2}-h, --help {2,}show this help\n$/, `${command}: the common options`)
  })
  t.match(helps[0]!.stdout, /usage: kernel-sweeper sweep <group> \[options\][^]*--dry-run[^]*--force/)
  t.match(helps[2]!.stdout, /usage: kernel-sweeper sweeps show <sweep_id> \[options\]/)
  t.match(helps[3]!.stdout, /--group G[^]*--status S[^]*RUNNING[^]*--agent A/)
  t.match(helps[7]!.stdout, /--follow[^]*--after ID[^]*--types T,…/)
  t.match(await runCli(['kernel', '-h', 'whatever']), { code: 0, stdout: /^usage: kernel-sweeper kernel <kernel_id>/ }, 'help wins over the arguments')
})

t.test('bad usage: exit 2, the problem and the usage line on standard error, nothing on standard output', async (t) => {
  const cases: Array<[string, string[], RegExp, Record<string, string>?]> = [
    ['no command', [], /^usage: kernel-sweeper <command>/],
    ['an unknown command', ['sweeep', 'default'], /unknown command "sweeep"; see kernel-sweeper --help/],
    ['an unknown option', ['kernels', '--bogus'], /Unknown option '--bogus'[^]*\nusage: kernel-sweeper kernels \[options\]/],
    ['a missing argument', ['sweep'], /missing <group>\nusage: kernel-sweeper sweep <group> \[options\]/],
    ['a missing argument of a subcommand', ['agents', 'decommission', '--force'], /missing <agent_id>/],
    ['an argument too many', ['kernel', 'k1', 'k2'], /unexpected argument "k2"/],
    ['a subcommand that does not exist', ['sweeps', 'shw', 'x'], /unexpected argument "shw"\nusage: kernel-sweeper sweeps \[options\]/],
    ['a string option without its value', ['kernels', '--group'], /argument missing/],
    ['a limit that is not a number', ['sweeps', '--limit', 'ten'], /--limit must be a whole number, not "ten"/],
    ['an unknown kernel status', ['kernels', '--status', 'ZOMBIE'], /--status must be one of PENDING, [^]*CANCELLED; not "ZOMBIE"/],
    ['an unknown agent status', ['agents', '--status', 'alive'], /--status must be one of ALIVE, UNREACHABLE, LOST, DECOMMISSIONED; not "alive"/],
    ['an unknown event type', ['events', '--types', 'kernel.terminated,kernel.died'], /--types must be one of [^]*; not "kernel.died"/],
    ['a service URL that is not http', ['kernels'], /KERNEL_SWEEPER_URL must be an http\(s\) URL, not "ftp:\/\/sweeper"/, { KERNEL_SWEEPER_URL: 'ftp://sweeper' }],
  ]
  const results = await Promise.all(cases.map(([, args, , env]) => runCli(args, env)))
  results.forEach((result, index) => {
    const [name, , stderr] = cases[index]!
    t.match(result, { code: 2, stdout: '', stderr }, name)
  })
})

t.test('agent-token prints the agent\'s own token from AGENT_TOKEN_SECRET, with no service', async (t) => {
  const [token, json, noSecret, blank, noAgent, badAgent] = await Promise.all([
    runCli(['agent-token', 'node.7'], { AGENT_TOKEN_SECRET: 'fleet' }),
    runCli(['agent-token', 'a1', '--json'], { AGENT_TOKEN_SECRET: 'fleet' }),
    runCli(['agent-token', 'a1']),
    runCli(['agent-token', 'a1'], { AGENT_TOKEN_SECRET: ' fleet' }),
    runCli(['agent-token'], { AGENT_TOKEN_SECRET: 'fleet' }),
    runCli(['agent-token', 'a/b'], { AGENT_TOKEN_SECRET: 'fleet' }),
  ])
  t.same(token, { code: 0, stdout: `${agentToken('fleet', 'node.7')}\n`, stderr: '' })
  t.same(JSON.parse(json.stdout), { agent_id: 'a1', token: agentToken('fleet', 'a1') })
  t.match(noSecret, { code: 2, stdout: '', stderr: /AGENT_TOKEN_SECRET is not set/ })
  t.match(blank, { code: 2, stdout: '', stderr: /AGENT_TOKEN_SECRET is not set, or is blank or padded with whitespace/ })
  t.match(noAgent, { code: 2, stdout: '', stderr: /missing <agent_id>\nusage: kernel-sweeper agent-token <agent_id>/ })
  t.match(badAgent, { code: 2, stdout: '', stderr: /<agent_id> must match [^]*\nusage:/ })
})

t.test('no service listening: exit 1, saying it cannot be reached', async (t) => {
  const result = await runCli(['kernels'], { KERNEL_SWEEPER_URL: `http://127.0.0.1:${await freePort()}` })
  t.match(result, { code: 1, stdout: '', stderr: /^kernel-sweeper: cannot reach the service: connect ECONNREFUSED 127\.0\.0\.1:\d+\n$/ })
})
