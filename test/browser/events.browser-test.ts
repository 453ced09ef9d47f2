// `npm run test:browser`: the event stream read by a real browser's EventSource, in a headless Chromium (Debian's), against the real app.
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { chromium } from 'playwright-core'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

// Runs in the page: follows the stream as any web client would, and lists what it receives on
// the page. Named events (`event: <type>`) reach only the listeners of that type, not `onmessage`.
const FOLLOW = `
  window.received = []
  document.body.innerHTML = '<h1>kernel-sweeper events</h1><ol id="events"></ol>'
  const source = new EventSource('/v1/events/stream')
  window.opened = new Promise((resolve) => { source.onopen = resolve })
  for (const type of ['kernel.terminated', 'sweep.finished', 'agent.decommissioned']) {
    source.addEventListener(type, (event) => {
      const cloudEvent = JSON.parse(event.data)
      window.received.push({ type: event.type, lastEventId: event.lastEventId, cloudEvent })
      const item = document.createElement('li')
      item.textContent = event.lastEventId + ' ' + event.type + ' ' + cloudEvent.subject
      document.getElementById('events').append(item)
    })
  }
  window.opened.then(() => 'open')
`

t.test('EventSource in Chromium follows GET /v1/events/stream', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, async (t) => {
  const app = await buildApp(loadConfig({ DATA_DIR: 'memory://', SWEEP_INTERVAL_SEC: '0' }), { logger: false })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  // The Swagger UI page: same-origin, as for a dashboard the service serves, and its policy lets a
  // script connect back (the API's own answers forbid everything: CSP default-src 'none').
  await page.goto(`${base}/docs`)
  t.equal(await page.evaluate(FOLLOW), 'open', 'the stream is open')

  // A real decommissioning, once the browser listens: its sweep writes the events with its terminations.
  const kernelId = randomUUID()
  await app.inject({ method: 'PUT', url: '/v1/agents/a1', payload: { address: 'http://127.0.0.1:9', scaling_group: 'default' } })
  await app.inject({
    method: 'PUT',
    url: `/v1/kernels/${kernelId}`,
    payload: { session_id: randomUUID(), scaling_group: 'default', agent_id: 'a1', status: 'RUNNING' },
  })
  const decommissioned = await app.inject({ method: 'POST', url: '/v1/agents/a1/decommission' })
  t.equal(decommissioned.statusCode, 201, 'a1 decommissioned')
  const sweepId = (decommissioned.json() as { sweep_id: string }).sweep_id

  await page.waitForFunction('window.received.length >= 3', undefined, { timeout: 10_000 })
  const received = await page.evaluate('window.received') as Array<{ type: string, lastEventId: string, cloudEvent: Record<string, unknown> }>
  t.same(received.map((event) => [event.lastEventId, event.type]),
    [['1', 'kernel.terminated'], ['2', 'agent.decommissioned'], ['3', 'sweep.finished']], 'each event, by its type and id, in order')
  t.match(received[0]!.cloudEvent, {
    specversion: '1.0',
    id: '1',
    source: 'kernel-sweeper',
    type: 'kernel.terminated',
    subject: kernelId,
    datacontenttype: 'application/json',
    data: { kernel_id: kernelId, reason: 'AGENT_DECOMMISSIONED', sweep_id: sweepId, version: 2 },
  }, 'the CloudEvent')
  t.match(received[1]!.cloudEvent, { subject: 'a1', data: { agent_id: 'a1', sweep_id: sweepId } })
  t.match(received[2]!.cloudEvent, { subject: sweepId, data: { handler: 'decommission-agent', terminated: 1 } })
  t.equal(await page.locator('#events li').count(), 3, 'and the page lists them')
  await page.screenshot({ path: 'dist/events-eventsource.png', fullPage: false })
})
