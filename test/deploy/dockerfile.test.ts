import { readFile } from 'node:fs/promises'
import t from 'tap'

// No image can be built here (no Docker daemon): the Dockerfile is checked as text.
const text = await readFile(new URL('../../deploy/Dockerfile', import.meta.url), 'utf8')
/** Instructions, continuation lines joined, comments left out. */
const instructions = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'))
const stages = instructions.reduce<string[][]>((all, line) => {
  if (/^FROM\s/i.test(line)) all.push([])
  all.at(-1)?.push(line)
  return all
}, [])
const final = stages.at(-1) ?? []
const last = (keyword: string) => final.filter((line) => line.toUpperCase().startsWith(`${keyword} `)).at(-1)

t.test('multi-stage: the runtime image does not carry the build tools', async (t) => {
  t.ok(stages.length >= 2, `${stages.length} stages`)
  t.match(final.join('\n'), /^COPY --from=\S+ .*\bdist\b/m, 'the final stage takes the build from an earlier one')
})

t.test('the final stage runs as a user that is not root', async (t) => {
  const user = last('USER')
  t.ok(user, 'USER in the final stage')
  t.notMatch(user ?? '', /^USER\s+(root|0)(:|\s*$)/i)
})

t.test('HEALTHCHECK asks /readyz', async (t) => {
  t.match(last('HEALTHCHECK') ?? '', /\/readyz/)
})

t.test('CMD runs the built server with node directly', async (t) => {
  const command = JSON.parse((last('CMD') ?? 'CMD null').slice(4)) as unknown
  t.ok(Array.isArray(command), 'exec form, so node gets the signals')
  t.equal((command as string[])[0], 'node')
  t.equal((command as string[]).at(-1), 'dist/src/server.js')
})

t.test('the service listens on every interface inside the container', async (t) => {
  t.match(final.join('\n'), /^ENV .*\bHOST=0\.0\.0\.0\b/m)
})

t.test('.dockerignore keeps local installs, builds and data out of the build context', async (t) => {
  const ignored = (await readFile(new URL('../../.dockerignore', import.meta.url), 'utf8')).split('\n').map((line) => line.trim())
  for (const path of ['node_modules', 'dist', '.data', '.git']) t.ok(ignored.includes(path), path)
})
