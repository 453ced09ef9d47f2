import { readFile } from 'node:fs/promises'
import t from 'tap'
import { parse } from 'yaml'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

t.test('openapi.yaml is the document the service serves, and lists every route of the contract', async (t) => {
  const app = await buildApp(loadConfig({ DATA_DIR: 'memory://', SWEEP_INTERVAL_SEC: '0' }), { logger: false })
  t.teardown(() => app.close())
  await app.ready()

  const served = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
  const written = parse(await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8'))
  t.same(served, written, 'run `npm run openapi` after changing a route')

  const operations = Object.entries(served.paths as Record<string, Record<string, { summary?: string, description?: string }>>)
    .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })))
  t.same(operations.map((o) => o.route).sort(), [
    'GET /healthz', 'GET /metrics', 'GET /readyz',
    'GET /v1/agents/{agent_id}', 'PUT /v1/agents/{agent_id}', 'POST /v1/agents/{agent_id}/presence',
    'GET /v1/kernels', 'PUT /v1/kernels', 'GET /v1/kernels/{kernel_id}', 'PUT /v1/kernels/{kernel_id}',
    'GET /v1/kernels/{kernel_id}/history', 'GET /v1/kernels/{kernel_id}/presence',
    'POST /v1/scaling-groups/{scaling_group}/sweeps', 'GET /v1/sweeps', 'GET /v1/sweeps/{sweep_id}',
  ].sort())
  for (const { route, operation } of operations) {
    t.ok((operation.summary ?? '').length > 0 && (operation.description ?? '').length > 0, `${route} has a summary and a description`)
  }

  const ui = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.body, /swagger-ui/i, 'Swagger UI')
})
