// `npm run test:browser`: Swagger UI in a real, headless Chromium (Debian's), against the real app.
import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { chromium } from 'playwright-core'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

t.test('Swagger UI: try a dry-run sweep and read the 201 from the page, then a bad request and its problem', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, async (t) => {
  const app = await buildApp(loadConfig({ DATA_DIR: 'memory://', SWEEP_INTERVAL_SEC: '0' }), { logger: false })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  await app.inject({
    method: 'PUT',
    url: '/v1/kernels/6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30',
    payload: { session_id: '0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f', scaling_group: 'default', agent_id: null, status: 'RUNNING' },
  })

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  await page.goto(`${base}/docs`)

  const operation = page.locator('.opblock-post', { hasText: '/v1/scaling-groups/{scaling_group}/sweeps' })
  await operation.locator('.opblock-summary').click()
  await operation.locator('button.try-out__btn').click()
  await operation.locator('input[placeholder="scaling_group"]').fill('default')
  t.match(await operation.locator('textarea.body-param__text').inputValue(), /"dry_run": true/, 'the example body is a dry run')
  await operation.locator('button.execute').click()

  const status = operation.locator('.live-responses-table .response .response-col_status').first()
  await status.waitFor({ timeout: 15_000 })
  t.equal((await status.innerText()).trim(), '201')
  const body = JSON.parse(await operation.locator('.live-responses-table .response-col_description pre').first().innerText())
  t.match(body, { scaling_group: 'default', dry_run: true, outcome: 'dry_run' })
  t.equal(body.result.successes.length + body.result.failures.length, 1, 'the one kernel was swept')
  await page.screenshot({ path: 'dist/swagger-ui-dry-run.png', fullPage: false })

  // A bad request: the mistyped `dryrun` (contract §3: an unknown field must never run a real
  // sweep). Swagger UI does not check a body against its schema, so the server answers, and the
  // page shows its problem details: the status, the problem+json content type and the body's `type`.
  await operation.locator('textarea.body-param__text').fill('{ "dryrun": true }')
  await operation.locator('button.execute').click()
  const badStatus = operation.locator('.live-responses-table .response .response-col_status', { hasText: '400' })
  await badStatus.waitFor({ timeout: 15_000 })
  t.equal((await badStatus.innerText()).trim(), '400', 'a 400, documented (Swagger UI adds "Undocumented" otherwise)')
  const [problemBody, problemHeaders] = await operation.locator('.live-responses-table .response-col_description pre').allInnerTexts()
  t.match(problemHeaders, /content-type: application\/problem\+json/i, 'the page shows the problem+json content type')
  t.match(JSON.parse(problemBody ?? ''), { type: 'validation-error', status: 400, detail: /dryrun/ }, 'and the problem, its type and the field')
  await badStatus.scrollIntoViewIfNeeded()
  await page.screenshot({ path: 'dist/swagger-ui-problem.png', fullPage: false })
  const sweeps = (await app.inject({ method: 'GET', url: '/v1/sweeps?scaling_group=default' })).json() as { items: Array<{ dry_run: boolean }> }
  t.same(sweeps.items.map((sweep) => sweep.dry_run), [true], 'the bad request ran no sweep: only the dry run is recorded')
})
