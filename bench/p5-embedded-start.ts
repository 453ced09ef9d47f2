// P5 — embedded start: from starting the built server with no DATABASE_URL (PGlite under a fresh
// DATA_DIR, made from the build's template and migrated at start; then again on the data it kept)
// to /readyz answering 200, and the process's RSS once idle, two seconds later.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fmt, freePort, median, report, SERVICE_NODE_FLAGS } from './support.js'

const runs = Number(process.argv[2] ?? 3)

async function rssOf (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024)
}

async function startOnce (dataDir: string): Promise<{ ms: number, idleRss: number }> {
  const port = await freePort()
  const { DATABASE_URL: _d, VALKEY_URL: _v, ...env } = process.env
  const started = performance.now()
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, new URL('../src/server.js', import.meta.url).pathname], {
    env: { ...env, PORT: String(port), DATA_DIR: dataDir, SWEEP_INTERVAL_SEC: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  try {
    for (;;) {
      if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false)) break
      if (performance.now() - started > 60_000) throw new Error('no /readyz within 60 s')
      await sleep(10)
    }
    const ms = performance.now() - started
    await sleep(2_000)
    return { ms, idleRss: await rssOf(child.pid!) }
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
}

const fresh: Array<{ ms: number, idleRss: number }> = []
const again: Array<{ ms: number, idleRss: number }> = []
for (let run = 0; run < runs; run++) {
  const dir = await mkdtemp(join(tmpdir(), 'kernel-sweeper-bench-'))
  try {
    fresh.push(await startOnce(join(dir, 'db')))
    again.push(await startOnce(join(dir, 'db')))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
report('P5 embedded start', {
  'to /readyz, new data dir (migrations included)': fmt(median(fresh.map((x) => x.ms))),
  'to /readyz, existing data dir': fmt(median(again.map((x) => x.ms))),
  'idle RSS, new data dir': `${median(fresh.map((x) => x.idleRss))} MB`,
  'idle RSS, existing data dir': `${median(again.map((x) => x.idleRss))} MB`,
  runs: `${fresh.map((x) => fmt(x.ms)).join(', ')} / ${again.map((x) => fmt(x.ms)).join(', ')}`,
})
