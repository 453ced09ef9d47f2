import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

/** What a scripted agent answers about a kernel: `running` true or false, or HTTP 500. */
export type ScriptedAnswer = boolean | 'error'

export interface ScriptedAgent {
  readonly url: string
  /** Kernel ids asked about, in order. */
  readonly asked: string[]
  /** The answer per kernel; a kernel not listed is dead (`running: false`). */
  readonly answers: Map<string, ScriptedAnswer>
  /** Run once before answering about a kernel, so a test can change the kernel meanwhile: a race. */
  readonly before: Map<string, () => Promise<void>>
}

/**
 * An agent on a real socket speaking contract §5's per-kernel route, answering as the test
 * scripts it; anything else (another agent id, another route) is 404.
 */
export async function startScriptedAgent (t: Test, agentId: string): Promise<ScriptedAgent> {
  const asked: string[] = []
  const answers = new Map<string, ScriptedAnswer>()
  const before = new Map<string, () => Promise<void>>()
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://agent')
    const match = /^\/v1\/kernels\/([^/]+)\/running$/.exec(url.pathname)
    if (request.method !== 'GET' || match === null || url.searchParams.get('agent_id') !== agentId) {
      response.writeHead(404).end()
      return
    }
    const kernelId = decodeURIComponent(match[1]!)
    asked.push(kernelId)
    const answer = (): void => {
      const running = answers.get(kernelId) ?? false
      if (running === 'error') {
        response.writeHead(500, { 'content-type': 'text/plain' }).end('agent failure')
        return
      }
      response.writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ agent_id: agentId, kernel_id: kernelId, running }))
    }
    const race = before.get(kernelId)
    before.delete(kernelId)
    if (race === undefined) answer()
    else race().catch((error: unknown) => { t.error(error, 'the race') }).finally(answer)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => { resolve() })
  }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked, answers, before }
}
