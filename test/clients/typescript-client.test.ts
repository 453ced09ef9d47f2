import { readFile } from 'node:fs/promises'
import t from 'tap'
import { generateSchema } from '../../clients/typescript/generate.js'
import { createSweeperClient } from '../../clients/typescript/client.js'

const root = new URL('../../', import.meta.url)

t.test('clients/typescript/schema.ts is what openapi-typescript makes from openapi.yaml', async (t) => {
  // The same function `npm run client` runs, so the bytes are the same; any difference is drift.
  const generated = await generateSchema(new URL('openapi.yaml', root))
  const committed = await readFile(new URL('clients/typescript/schema.ts', root), 'utf8')
  t.equal(committed, generated, 'run `npm run client` after changing openapi.yaml')
  t.match(committed, /^\/\*\*\n \* Generated from openapi\.yaml by openapi-typescript \(`npm run client`\)/, 'it says how it was made')
})

t.test('the client sends the bearer token on every request, and none without one', async (t) => {
  const seen: Array<string | null> = []
  const fetch = globalThis.fetch
  // Capture the requests openapi-fetch builds instead of sending them.
  globalThis.fetch = async (input: string | URL | Request) => {
    seen.push((input as Request).headers.get('authorization'))
    return new Response(JSON.stringify({ status: 'ok' }), { status: 200, headers: { 'content-type': 'application/json' } })
  }
  t.teardown(() => { globalThis.fetch = fetch })

  const withToken = createSweeperClient('http://sweeper.invalid', 's3cret')
  t.same((await withToken.GET('/healthz')).data, { status: 'ok' })
  await withToken.GET('/v1/agents/{agent_id}', { params: { path: { agent_id: 'a1' } }, headers: { authorization: 'Bearer other' } })
  await createSweeperClient('http://sweeper.invalid').GET('/healthz')
  t.same(seen, ['Bearer s3cret', 'Bearer s3cret', null])
})
