import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

/*
 * Issue 15, item 7: security headers fit for an API on every answer, and a policy for the Swagger
 * UI page that lets it run (test/browser/swagger-ui.browser-test.ts drives it in Chromium).
 */

const app = await buildApp(loadConfig({ DATA_DIR: 'memory://', SWEEP_INTERVAL_SEC: '0' }), { logger: false })
t.teardown(() => app.close())
await app.ready()

/** A Content-Security-Policy header as directive → sources. */
function policy (header: unknown): Record<string, string[]> {
  return Object.fromEntries(String(header).split(';').map((directive) => directive.trim()).filter((d) => d !== '')
    .map((directive) => { const [name = '', ...sources] = directive.split(/\s+/); return [name, sources] }))
}

t.test('every API answer, success or problem, carries the API headers', async (t) => {
  const answers = {
    'a probe': await app.inject({ method: 'GET', url: '/healthz' }),
    'a listing': await app.inject({ method: 'GET', url: '/v1/sweeps' }),
    'a 404 problem': await app.inject({ method: 'GET', url: '/v1/kernels/6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30' }),
    'a 400 problem': await app.inject({ method: 'POST', url: '/v1/scaling-groups/default/sweeps', payload: { dryrun: true } }),
    'an unknown route': await app.inject({ method: 'GET', url: '/nothing-here' }),
  }
  for (const [name, answer] of Object.entries(answers)) {
    t.match(answer.headers, {
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
      'strict-transport-security': /max-age=\d+/,
    }, name)
    t.same(policy(answer.headers['content-security-policy']), { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] },
      `${name}: an answer is data; nothing may load or run from it, nor frame it`)
  }
})

t.test('the Swagger UI page may load what it needs from the service, and nothing else', async (t) => {
  const page = await app.inject({ method: 'GET', url: '/docs' })
  t.equal(page.statusCode, 200)
  const csp = policy(page.headers['content-security-policy'])
  t.same(csp['default-src'], ["'self'"], 'scripts, styles, fonts and calls to the API: from the service')
  t.same(csp['img-src'], ["'self'", 'data:'])
  t.same(csp['frame-ancestors'], ["'none'"])
  t.same(csp['object-src'], ["'none'"])
  t.notOk('upgrade-insecure-requests' in csp, 'no upgrade to https: the service speaks plain HTTP')
  t.notOk(Object.values(csp).flat().some((source) => source.includes('unsafe') || source === 'https:'), 'nothing unsafe, nothing from anywhere')
  t.equal(page.headers['x-content-type-options'], 'nosniff')

  // What the policy allows is enough: every script and style the page names is the service's own
  // file, and none is inline.
  const html = page.body
  const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map(([, attributes = '']) => /src="([^"]+)"/.exec(attributes)?.[1])
  t.ok(scripts.length > 0 && scripts.every((src) => src !== undefined && !/^[a-z]+:/i.test(src)), `scripts from the service: ${scripts.join(', ')}`)
  t.notMatch(html, /<style\b|\sstyle="/, 'no inline style')
  for (const src of scripts) {
    const file = await app.inject({ method: 'GET', url: new URL(src!, 'http://service/docs').pathname })
    t.equal(file.statusCode, 200, `${src} is served`)
  }
  t.equal((await app.inject({ method: 'GET', url: '/docs/json' })).statusCode, 200, 'and so is the API document')
})
