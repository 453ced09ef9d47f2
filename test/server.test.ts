import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { PACKAGE_VERSION } from '../src/package-info.js'
import { migrationVersions } from './helpers/postgres.js'

const run = promisify(execFile)
// The embedded database is what an operator gets with no DATABASE_URL.
const { DATABASE_URL: _databaseUrl, ...embeddedEnv } = process.env

// The front door as an operator uses it: the built program (`npm test` builds it first), a real
// socket, a real signal.

async function scratchDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kernel-sweeper-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('the built server migrates its embedded database, answers /healthz, and shuts down on SIGTERM', async (t) => {
  const dataDir = await scratchDir(t)
  const server = spawn(process.execPath, ['dist/src/server.js'], {
    env: { ...embeddedEnv, PORT: '0', LOG_LEVEL: 'info', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => { server.kill('SIGKILL') })

  const logs: Array<Record<string, unknown>> = []
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: server.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>
      logs.push(entry)
      const address = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(entry['msg']))
      if (address?.[1] !== undefined) resolve(address[1])
    })
    server.once('exit', (code) => reject(new Error(`server exited early with ${code}`)))
  })
  const baseUrl = await listening

  const response = await fetch(`${baseUrl}/healthz`)
  t.equal(response.status, 200)
  t.same(await response.json(), { status: 'ok' })

  server.kill('SIGTERM')
  const [code] = await once(server, 'exit')
  t.equal(code, 0, 'exits cleanly')
  t.ok(logs.some((entry) => entry['msg'] === 'shutting down' && entry['signal'] === 'SIGTERM'), 'logs the shutdown')
  t.ok(logs.every((entry) => typeof entry['level'] === 'number' && typeof entry['time'] === 'number'), 'pino JSON logs')
  t.match(logs.find((entry) => entry['msg'] === 'kernel-sweeper started'), {
    version: PACKAGE_VERSION, address: baseUrl, database: `embedded PostgreSQL (PGlite) in ${dataDir}`, presence: 'in-process presence', node: process.version,
  }, 'the start-up line names the build and its stores')

  const { stdout } = await run(process.execPath, ['dist/src/persistence/migrate-command.js'], { env: { ...embeddedEnv, DATA_DIR: dataDir } })
  t.match(stdout, /is up to date/, 'the server had migrated the database it kept')
})

t.test('npm run migrate brings a new embedded database up to date, once', async (t) => {
  const dataDir = await scratchDir(t)
  const env = { ...embeddedEnv, DATA_DIR: join(dataDir, 'db') }
  t.match((await run('npm', ['run', '--silent', 'migrate'], { env })).stdout, new RegExp(`applied migrations ${migrationVersions().join(', ')} to embedded database`))
  t.match((await run(process.execPath, ['dist/src/persistence/migrate-command.js'], { env })).stdout, /is up to date/)
})

t.test('a bad setting stops the start with one clear line', async (t) => {
  const result = await run(process.execPath, ['dist/src/server.js'], {
    env: { ...process.env, PORT: '70000' },
  }).then(() => null, (error: { code: number, stderr: string }) => error)
  t.equal(result?.code, 1)
  t.match(result?.stderr, /^kernel-sweeper: invalid configuration: .*PORT/)
})
