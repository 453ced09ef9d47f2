import { spawn } from 'node:child_process'
import type { Test } from 'tap'
import { freePort } from './redis.js'

/** A simulated agent in a process of its own (the built `agent-sim` program), on a real socket. */
export interface AgentProcess {
  readonly agentId: string
  readonly url: string
  admin (method: string, path: string, body?: unknown): Promise<Response>
}

export async function startAgentProcess (
  t: Test,
  options: { agentId: string, service: string, scalingGroup: string, kernels: readonly string[], intervalSec?: number }
): Promise<AgentProcess> {
  const port = await freePort()
  const child = spawn(process.execPath, [
    'dist/src/agents/simulator/cli.js',
    '--agent-id', options.agentId,
    '--port', String(port),
    '--service', options.service,
    '--scaling-group', options.scalingGroup,
    '--kernels', options.kernels.join(','),
    '--interval-sec', String(options.intervalSec ?? 3600),
  ], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  // Ready once it says it registered (its first heartbeat follows at once).
  await new Promise<void>((resolve, reject) => {
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('registered with the service') || output.includes('registration failed')) resolve()
    })
    child.once('exit', (code) => { reject(new Error(`agent ${options.agentId} exited with ${code}`)) })
  })
  const url = `http://127.0.0.1:${port}`
  return {
    agentId: options.agentId,
    url,
    admin: (method, path, body) => fetch(`${url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }),
  }
}
