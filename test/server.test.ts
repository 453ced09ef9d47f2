import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { PACKAGE_VERSION } from '../src/package-info.js'
import { PGliteDatabase } from '../src/persistence/pglite-database.js'
import { migrationVersions } from './helpers/postgres.js'
import { freePort, OwnRedisServer, skipWithoutRedis } from './helpers/redis.js'
import { startServerProcess } from './helpers/server-process.js'

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

t.test('npm run migrate: a new embedded database starts from the build\'s template, with every migration', async (t) => {
  const dataDir = join(await scratchDir(t), 'db')
  const env = { ...embeddedEnv, DATA_DIR: dataDir }
  t.match((await run('npm', ['run', '--silent', 'migrate'], { env })).stdout, /embedded database in .* is up to date/)
  const db = await PGliteDatabase.open(dataDir)
  t.teardown(() => db.close())
  const applied = await db.query<{ version: string }>('SELECT version FROM schema_migrations WHERE version > 0 ORDER BY version')
  t.same(applied.map((row) => Number(row.version)), migrationVersions())
})

t.test('a database that does not answer is tried for STARTUP_TIMEOUT_SEC, said once, then the start stops with one line', async (t) => {
  const port = await freePort()
  const started = Date.now()
  const result = await run(process.execPath, ['dist/src/server.js'], {
    env: { ...process.env, PORT: '0', STARTUP_TIMEOUT_SEC: '2', DATABASE_URL: `postgres://sweeper:hunter2@127.0.0.1:${port}/kernels` },
  }).then(() => null, (error: { code: number, stdout: string, stderr: string }) => error)
  const elapsed = Date.now() - started
  t.equal(result?.code, 1, 'exit 1')
  t.ok(elapsed >= 2_000 && elapsed < 20_000, `gave up after the timeout (${elapsed} ms)`)
  const lines = (result?.stdout ?? '').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
  const location = `PostgreSQL at 127.0.0.1:${port}/kernels`
  t.match(lines.filter((line) => line['store'] === 'database'), [
    { level: 40, location, err: /ECONNREFUSED/, msg: 'database does not answer; trying again for up to 2 s' },
    { level: 60, msg: `could not start: database (${location}) did not answer within 2 s: connect ECONNREFUSED 127.0.0.1:${port}` },
  ], 'one line when it first fails, one when the start stops')
  t.notMatch(`${result?.stdout ?? ''}${result?.stderr ?? ''}`, /hunter2|sweeper@|\n\s+at /, 'no credentials, no stack trace')
})

t.test('a Valkey that comes up while the start waits for it is used: the service starts and is ready', { skip: await skipWithoutRedis() }, async (t) => {
  const dataDir = await scratchDir(t)
  const redis = await OwnRedisServer.reserve(t)
  const { url, logs } = await startServerProcess(t, { DATA_DIR: join(dataDir, 'db'), VALKEY_URL: `redis://127.0.0.1:${redis.port}/2`, STARTUP_TIMEOUT_SEC: '60' }, (entry) => {
    // Valkey comes up once the service has said it waits for it.
    if (entry['store'] === 'presence' && entry['level'] === 40) redis.start().catch((error: unknown) => { t.error(error) })
  })
  t.equal((await fetch(`${url}/readyz`)).status, 200)
  t.match(logs.filter((line) => line['store'] === 'presence'), [
    { level: 40, location: `Valkey at 127.0.0.1:${redis.port}/2`, msg: 'presence does not answer; trying again for up to 60 s' },
  ], 'said once that it waits; no "lost" for a store that was never there')
  t.equal(logs.filter((line) => line['store'] === 'presence').length, 1)
  t.ok(logs.some((line) => line['msg'] === 'kernel-sweeper started'))
})

t.test('a bad setting stops the start with one clear line', async (t) => {
  const result = await run(process.execPath, ['dist/src/server.js'], {
    env: { ...process.env, PORT: '70000' },
  }).then(() => null, (error: { code: number, stderr: string }) => error)
  t.equal(result?.code, 1)
  t.match(result?.stderr, /^kernel-sweeper: invalid configuration: .*PORT/)
})
