import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

t.test('GET /healthz answers ok', async (t) => {
  const app = await buildApp(loadConfig({ DATA_DIR: 'memory://' }), { logger: false })
  t.teardown(() => app.close())

  const response = await app.inject({ method: 'GET', url: '/healthz' })

  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^application\/json/)
  t.same(response.json(), { status: 'ok' })
})
