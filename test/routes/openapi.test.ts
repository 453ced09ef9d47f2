import { readFile } from 'node:fs/promises'
import t from 'tap'
import { parse } from 'yaml'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { PROBLEM_MEDIA_TYPE, ProblemType } from '../../src/http/problem.js'
import { PACKAGE_VERSION } from '../../src/package-info.js'

interface Response { description: string, headers?: Record<string, unknown>, content?: Record<string, { schema: { $ref?: string } }> }
interface Operation {
  operationId?: string
  summary?: string
  description?: string
  security?: unknown[]
  parameters?: Array<{ in: string, name: string, required?: boolean }>
  requestBody?: { required?: boolean }
  responses: Record<string, Response>
}

t.test('openapi.yaml is the document the service serves, and lists every route of the contract', async (t) => {
  const app = await buildApp(loadConfig({ DATA_DIR: 'memory://', SWEEP_INTERVAL_SEC: '0' }), { logger: false })
  t.teardown(() => app.close())
  await app.ready()

  const served = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
  const written = parse(await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8'))
  t.same(served, written, 'run `npm run openapi` after changing a route')

  const operations = Object.entries(served.paths as Record<string, Record<string, Operation>>)
    .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })))
  t.same(operations.map((o) => o.route).sort(), [
    'GET /healthz', 'GET /metrics', 'GET /readyz',
    'GET /v1/agents', 'GET /v1/agents/{agent_id}', 'PUT /v1/agents/{agent_id}', 'POST /v1/agents/{agent_id}/presence',
    'POST /v1/agents/{agent_id}/reconcile', 'POST /v1/agents/{agent_id}/decommission',
    'GET /v1/kernels', 'PUT /v1/kernels', 'GET /v1/kernels/{kernel_id}', 'PUT /v1/kernels/{kernel_id}',
    'GET /v1/kernels/{kernel_id}/history', 'GET /v1/kernels/{kernel_id}/presence',
    'POST /v1/scaling-groups/{scaling_group}/sweeps', 'GET /v1/sweeps', 'GET /v1/sweeps/{sweep_id}',
    'GET /v1/events', 'GET /v1/events/stream',
  ].sort())
  for (const { route, operation } of operations) {
    t.ok((operation.summary ?? '').length > 0 && (operation.description ?? '').length > 0, `${route} has a summary and a description`)
  }

  await t.test('what generated clients and contract-checking gateways rely on', async (t) => {
    t.equal(served.info.version, PACKAGE_VERSION, "the package's version")
    t.ok(served.servers.length > 0, 'a servers entry')
    const schemas = Object.keys(served.components.schemas)
    for (const name of [
      'Sweep', 'Kernel', 'Agent', 'AgentStatus', 'AgentList', 'Reconciliation', 'KernelStatus', 'SkipCause', 'KernelTransitionInfo',
      'BadRequestProblem', 'LockBusyProblem', 'CloudEvent', 'EventList', 'CursorExpiredProblem',
    ]) {
      t.ok(schemas.includes(name), `components.schemas.${name}`)
    }
    const ids = operations.map((o) => o.operation.operationId)
    t.ok(ids.every((id) => id !== undefined && /^(get|list|create|upsert|register|report|decommission|reconcile|stream)[A-Z][A-Za-z]*$/.test(id)), 'every operation has a camelCase verb operationId')
    t.equal(new Set(ids).size, ids.length, 'operationIds are unique')

    // Every kind of problem the error handler can answer is documented under some status.
    const documentedTypes = new Set(Object.values(served.components.schemas as Record<string, { properties?: { type?: { enum?: string[] } } }>)
      .flatMap((schema) => schema.properties?.type?.enum ?? []))
    t.same(Object.values(ProblemType).filter((type) => !documentedTypes.has(type)), [], 'every problem type is documented')

    for (const { route, operation } of operations) {
      const responses = Object.entries(operation.responses)
      t.notOk(responses.some(([, response]) => response.description === 'Default Response'), `${route}: every response is described`)
      // /readyz's 503 is its readiness report (contract §3), not a problem.
      for (const [status, response] of responses.filter(([status]) => Number(status) >= 400 && route.includes(' /v1/'))) {
        t.same(Object.keys(response.content ?? {}), [PROBLEM_MEDIA_TYPE], `${route} ${status}: problem+json`)
        t.match(response.content?.[PROBLEM_MEDIA_TYPE]?.schema.$ref, /^#\/components\/schemas\/\w+Problem$/, `${route} ${status}: a named problem`)
      }
      if (route.includes(' /v1/')) {
        t.same(operation.security, [{ bearer: [] }], `${route}: bearer token`)
        for (const status of ['400', '401', '500', '503']) t.ok(operation.responses[status], `${route} documents ${status}`)
        t.ok(operation.responses['401']?.headers?.['www-authenticate'], `${route}: WWW-Authenticate on 401`)
        if (operation.requestBody !== undefined) {
          for (const status of ['413', '415']) t.ok(operation.responses[status], `${route} documents ${status}`)
        }
        if ((operation.parameters ?? []).some((parameter) => parameter.in === 'path')) t.ok(operation.responses['414'], `${route} documents 414`)
      } else {
        t.same(operation.security, [], `${route}: open`)
      }
      if (operation.responses['201'] !== undefined) t.ok(operation.responses['201'].headers?.['location'], `${route}: Location on 201`)
      if (operation.responses['409'] !== undefined) t.ok(operation.responses['409'].headers?.['retry-after'], `${route}: Retry-After on 409`)
      for (const parameter of operation.parameters ?? []) {
        if (parameter.name === 'limit') t.notOk(parameter.required, `${route}: limit is optional (the server defaults it)`)
      }
    }
    const createSweep = operations.find((o) => o.operation.operationId === 'createSweep')?.operation
    t.equal(createSweep?.requestBody?.required, false, 'a sweep needs no body')
    const decommission = operations.find((o) => o.operation.operationId === 'decommissionAgent')?.operation
    t.equal(decommission?.requestBody?.required, false, 'nor does a decommissioning')
  })

  const ui = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.body, /swagger-ui/i, 'Swagger UI')
})
