import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { parse } from 'yaml'
import { knownSettings } from '../../src/config.js'

interface Service {
  build?: { context: string, dockerfile: string }
  environment?: Record<string, string>
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test?: string[], disable?: boolean }
}

const file = new URL('../../deploy/compose.yaml', import.meta.url)
const compose = parse(await readFile(file, 'utf8')) as { services: Record<string, Service> }
const { sweeper, postgres, valkey } = compose.services

t.test('the service, Postgres and Valkey', async (t) => {
  t.same(Object.keys(compose.services).sort(), ['postgres', 'sweeper', 'valkey'])
})

t.test('the service is built from deploy/Dockerfile with the repository as context', async (t) => {
  const build = sweeper?.build
  t.ok(build)
  t.ok(existsSync(new URL(`${build?.context}/${build?.dockerfile}`, file)), `${build?.context}/${build?.dockerfile} exists`)
})

t.test('every variable set for the service is one it reads, and points at the stores beside it', async (t) => {
  const environment = sweeper?.environment ?? {}
  const known = new Set(knownSettings().map(({ name }) => name))
  for (const name of Object.keys(environment)) t.ok(known.has(name), `${name} is a setting`)
  t.match(environment['DATABASE_URL'], /@postgres:5432\//)
  t.match(environment['VALKEY_URL'], /^redis:\/\/valkey:6379\//)
})

t.test('the stores have health checks and the service waits for them; its own comes from the image', async (t) => {
  for (const [name, service] of Object.entries({ postgres, valkey })) {
    t.ok((service?.healthcheck?.test?.length ?? 0) > 0, `${name} has a health check`)
    t.equal(sweeper?.depends_on?.[name]?.condition, 'service_healthy', `the service waits for ${name}`)
  }
  t.notOk(sweeper?.healthcheck?.disable, 'the image\'s HEALTHCHECK is not turned off')
})
