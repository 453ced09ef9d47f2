import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import t from 'tap'

// The front door as an operator uses it: the built server, a real socket, a real signal.
t.test('the built server answers /healthz and shuts down gracefully on SIGTERM', async (t) => {
  await promisify(execFile)('npm', ['run', 'build'])
  const server = spawn(process.execPath, ['dist/src/server.js'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info' },
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
})

t.test('a bad setting stops the start with one clear line', async (t) => {
  await promisify(execFile)('npm', ['run', 'build'])
  const result = await promisify(execFile)(process.execPath, ['dist/src/server.js'], {
    env: { ...process.env, PORT: '70000' },
  }).then(() => null, (error: { code: number, stderr: string }) => error)
  t.equal(result?.code, 1)
  t.match(result?.stderr, /^kernel-sweeper: invalid configuration: .*PORT/)
})
