import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { JsonLimitError, JsonLimitsCheck, type JsonLimits } from '../../src/json/json-limits.js'
import { JSON_BODY_LIMITS } from '../../src/plugins/json-body-limits.js'

/** The limit `text` passes first, written in chunks of the given sizes (cycled), or null. */
function limitPassed (text: string, limits: JsonLimits = JSON_BODY_LIMITS, chunkSizes: readonly number[] = [Infinity]): string | null {
  const bytes = Buffer.from(text)
  const check = new JsonLimitsCheck(limits)
  try {
    for (let offset = 0, i = 0; offset < bytes.length; i++) {
      const size = Math.min(chunkSizes[i % chunkSizes.length]!, bytes.length - offset)
      check.write(bytes.subarray(offset, offset + size))
      offset += size
    }
    return null
  } catch (error) {
    if (!(error instanceof JsonLimitError)) throw error
    return error.limit
  }
}

const kernel = (): Record<string, unknown> => ({
  kernel_id: randomUUID(), session_id: randomUUID(), scaling_group: 'default', agent_id: 'agent-1', status: 'RUNNING', expected_version: 7,
})

t.test('the largest bodies the contract allows pass, whole or a few bytes at a time', async (t) => {
  const bodies = {
    'PUT /v1/kernels, 10,000 kernels': { kernels: Array.from({ length: 10_000 }, kernel) },
    'heartbeats for 10,000 kernels': { kernels: Object.fromEntries(Array.from({ length: 10_000 }, () => [randomUUID(), true])) },
    'reconciliation of 10,000 kernels': { kernels: Array.from({ length: 10_000 }, () => randomUUID()) },
  }
  for (const [name, body] of Object.entries(bodies)) {
    const text = JSON.stringify(body)
    t.equal(limitPassed(text), null, name)
    t.equal(limitPassed(text, JSON_BODY_LIMITS, [1, 7, 4096, 3]), null, `${name}, in small chunks`)
  }
})

t.test('each limit, at and just past it', async (t) => {
  const { depth, values, layouts, keyLength } = JSON_BODY_LIMITS
  const nested = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`
  t.equal(limitPassed(nested(depth)), null, `${depth} deep`)
  t.equal(limitPassed(nested(depth + 1)), 'depth', `${depth + 1} deep`)
  t.equal(limitPassed(`{"a":${'{"a":'.repeat(depth - 1)}1${'}'.repeat(depth)}`), null, `${depth} objects deep`)

  // The array is a value, and each comma adds one.
  const list = (items: number): string => `[${Array.from({ length: items }, () => '0').join(',')}]`
  t.equal(limitPassed(list(values)), null, `${values} values`)
  t.equal(limitPassed(list(values + 1)), 'values', `${values + 1} values`)

  const keys = (n: number): string => `{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`
  t.equal(limitPassed(keys(layouts)), null, `${layouts} keys`)
  t.equal(limitPassed(keys(layouts + 1)), 'layouts', `${layouts + 1} keys`)
  t.equal(limitPassed(`[${Array.from({ length: 20_000 }, () => '{"a":1,"b":2,"c":3}').join(',')}]`), null,
    '20,000 objects of one layout count it once')
  t.equal(limitPassed(`[${Array.from({ length: layouts / 2 + 1 }, (_, i) => `{"k${i}":1,"a":2}`).join(',')}]`), 'layouts',
    `"a" after each of ${layouts / 2 + 1} different keys: ${layouts + 2} layouts from ${layouts / 2 + 2} key names`)

  t.equal(limitPassed(`{"${'k'.repeat(keyLength)}":1}`), null, `a key of ${keyLength} bytes`)
  t.equal(limitPassed(`{"${'k'.repeat(keyLength + 1)}":1}`), 'keyLength', `a key of ${keyLength + 1} bytes`)
  t.equal(limitPassed(`{"${'k'.repeat(8 * 1024 * 1024)}":1}`, JSON_BODY_LIMITS, [65_536]), 'keyLength', 'an 8 MiB key, refused in its first chunks')
  t.equal(limitPassed(`["${'k'.repeat(keyLength * 10)}"]`), null, 'long strings that are not keys are fine')
})

t.test('strings are skipped: brackets, commas and escaped quotes in them count for nothing', async (t) => {
  const tight: JsonLimits = { depth: 2, values: 4, layouts: 2, keyLength: 8 }
  const text = JSON.stringify({ a: '[[[[{{{{,,,,', b: ['\\"[[[', '"]]]"\\'] })
  t.equal(limitPassed(text, tight), null, text)
  for (let size = 1; size < 6; size++) t.equal(limitPassed(text, tight, [size]), null, `${text} in chunks of ${size}`)
})

/** Whether a parsed value is within `limits`, counted on the value itself rather than on its text. */
function withinLimits (value: unknown, limits: JsonLimits): boolean {
  const layouts = new Map<string, number>()
  let values = 0
  let deepest = 0
  let longestKey = 0
  const visit = (node: unknown, depth: number): void => {
    if (typeof node !== 'object' || node === null) return
    deepest = Math.max(deepest, depth)
    const items = Array.isArray(node) ? node : Object.values(node)
    values += 1 + Math.max(0, items.length - 1)
    if (!Array.isArray(node)) {
      let layout = 0
      for (const key of Object.keys(node)) {
        const written = JSON.stringify(key).slice(1, -1)
        longestKey = Math.max(longestKey, Buffer.byteLength(written))
        const edge = `${layout}"${written}`
        layout = layouts.get(edge) ?? layouts.set(edge, layouts.size + 1).size
      }
    }
    for (const item of items) visit(item, depth + 1)
  }
  visit(value, 1)
  return deepest <= limits.depth && values <= limits.values && layouts.size <= limits.layouts && longestKey <= limits.keyLength
}

t.test('the check agrees with the same limits counted on the parsed value, wherever chunks split the text (fast-check)', async (t) => {
  const tight: JsonLimits = { depth: 3, values: 12, layouts: 6, keyLength: 4 }
  let refused = 0
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }), (value, sizes) => {
    const text = JSON.stringify(value)
    const whole = limitPassed(text, tight)
    if (whole !== null) refused++
    return limitPassed(text, tight, sizes) === whole && (whole === null) === withinLimits(JSON.parse(text), tight)
  }), { numRuns: 2_000, seed: 15 })
  t.ok(refused > 200 && refused < 1_800, `2,000 texts, ${refused} over a limit`)
})

t.test('text that is not JSON ends without a throw of its own', async (t) => {
  for (const text of ['', '"unterminated', ']]]}}}', '{"a"', '\\', '{,,,}', '{"":1,"":2}']) {
    t.equal(limitPassed(text), null, JSON.stringify(text))
  }
})
