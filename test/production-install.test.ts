import { execFile, spawn } from 'node:child_process'
import { cp, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import t from 'tap'

const run = promisify(execFile)

// A production install as an operator or the Dockerfile makes it: the built tree (`npm test` has
// built it), installed with `npm ci --omit=dev` — no TypeScript, so `prepare` keeps the given
// dist/ — then `npm start`, and the command-line client from the same tree.

t.test('npm ci --omit=dev of a built tree, then npm start: the service runs, without any development tool', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'kernel-sweeper-production-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  for (const entry of ['package.json', 'package-lock.json', 'dist', 'migrations']) await cp(entry, join(root, entry), { recursive: true })
  const { DATABASE_URL: _d, VALKEY_URL: _v, API_TOKEN: _a, ...env } = process.env
  await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: root, env })
  await t.rejects(stat(join(root, 'node_modules', 'typescript')), 'no TypeScript: a production install')

  const server = spawn('npm', ['start'], { cwd: root, env: { ...env, PORT: '0', SWEEP_INTERVAL_SEC: '0' }, stdio: ['ignore', 'pipe', 'inherit'], detached: true })
  t.teardown(() => { try { process.kill(-server.pid!, 'SIGKILL') } catch {} })
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: server.stdout }).on('line', (line) => {
      const address = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(line)
      if (address?.[1] !== undefined) resolve(address[1])
    })
    server.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)))
  })
  const ready = await fetch(`${url}/readyz`)
  t.equal(ready.status, 200, 'ready on the embedded database it made from the shipped template')

  const cli = await run(process.execPath, [join(root, 'dist/src/cli/main.js'), 'sweep', 'default', '--json'], { env: { ...env, KERNEL_SWEEPER_URL: url } })
  t.match(JSON.parse(cli.stdout), { scaling_group: 'default', outcome: 'completed' }, 'the command-line client from the same tree')
})
