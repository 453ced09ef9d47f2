import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Test } from 'tap'

export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  readonly logs: Array<Record<string, unknown>>
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>
}

/** The built service (`dist/src/server.js`, built by `npm test`) in a process of its own, on a free port. */
export async function startServerProcess (
  t: Test,
  env: Record<string, string>,
  /** Told of every log line as it comes, before the server listens too (a test can act on one). */
  onLog: (entry: Record<string, unknown>) => void = () => {}
): Promise<ServerProcess> {
  const { DATABASE_URL: _d, VALKEY_URL: _v, API_TOKEN: _a, ...inherited } = process.env
  const child = spawn(process.execPath, ['dist/src/server.js'], {
    env: { ...inherited, PORT: '0', SWEEP_INTERVAL_SEC: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => { child.kill('SIGKILL') })
  const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  const logs: Array<Record<string, unknown>> = []
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>
      logs.push(entry)
      onLog(entry)
      const address = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(entry['msg']))
      if (address?.[1] !== undefined) resolve(address[1])
    })
    exited.then((code) => { reject(new Error(`server exited early with ${code}`)) }).catch(() => {})
  })
  return { url, child, logs, exited }
}
