import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { parseStrictJson, RepeatedKeyError } from '../../src/json/strict-json.js'

t.test('a repeated key is malformed wherever it is, and the error says which key and where', async (t) => {
  const cases: Array<[name: string, text: string, key: string, pointer: string]> = [
    ['top level', '{"agent_id":"a1","running": true, "running": false}', 'running', '/'],
    ['nested object', '{"a":{"b":1,"c":{"d":1,"d":2}}}', 'd', '/a/c'],
    ['object in an array', '[{"x":1},{"x":1,"y":2,"x":2}]', 'x', '/1'],
    ['array in an object in an array', '{"items":[[],[{"k":null}],[{},{"k":1,"k":1}]]}', 'k', '/items/2/1'],
    ['the same value twice is still twice', '{"dry_run": true, "dry_run": true}', 'dry_run', '/'],
    ['an escape of the same key', '{"a":1,"\\u0061":2}', 'a', '/'],
    ['escapes on both sides', '{"\\u0072unning":true,"r\\u0075nning":false}', 'running', '/'],
    ['an escaped quote', '{"say \\"hi\\"":1,"say \\u0022hi\\u0022":2}', 'say "hi"', '/'],
    ['a surrogate pair and its character', '{"\\ud83d\\ude00":1,"😀":2}', '😀', '/'],
    ['pointer escapes ~ and /', '{"a/b":{"c~d":{"e":1,"e":2}}}', 'e', '/a~1b/c~0d'],
    ['the empty key', '{"":1,"":2}', '', '/'],
    ['a key after a nested value', '{"a":{"b":[1,{"c":2}]},"a":3}', 'a', '/'],
  ]
  for (const [name, text, key, pointer] of cases) {
    const error = t.throws(() => parseStrictJson(text), RepeatedKeyError, name) as RepeatedKeyError
    t.equal(error.key, key, `${name}: the key`)
    t.equal(error.pointer, pointer, `${name}: where`)
    t.equal(error.message, `the key ${JSON.stringify(key)} appears more than once in ${pointer}`, `${name}: the message`)
    t.ok(error instanceof SyntaxError, `${name}: malformed JSON, as far as a catch of SyntaxError knows`)
  }
})

t.test('what only looks like a repeat is not one', async (t) => {
  const texts = [
    '{"a":1,"b":{"a":2}}', // the same key in different objects
    '[{"a":1},{"a":2}]', // siblings in an array
    '{"a":"a","b":["a","a"]}', // strings that are values, not keys
    '{"a":{"a":{"a":1}}}', // nested under its own name
    '{"A":1,"a":2}', // keys are case-sensitive
    '{"\u00e9":1,"e\u0301":2}', // NFC and NFD spell different keys, as JSON.parse sees them
    '{"a\\u0000":1,"a":2}',
    '{}', '[]', '"{\\"a\\":1,\\"a\\":2}"', // a string holding such an object is just a string
    '1', 'true', 'null',
  ]
  for (const text of texts) t.same(parseStrictJson(text), JSON.parse(text), text)
})

t.test('valid JSON without repeats comes back exactly as JSON.parse gives it', async (t) => {
  // JSON.stringify never repeats a key, so every text here is one JSON.parse must agree on.
  fc.assert(fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2), (value, indent) => {
    const text = JSON.stringify(value, null, indent)
    t.same(parseStrictJson(text), JSON.parse(text))
    return true
  }), { numRuns: 300 })
  const proto = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>
  t.ok(Object.hasOwn(proto, '__proto__'), '__proto__ is an own key, as with JSON.parse')
  t.equal(({} as Record<string, unknown>)['polluted'], undefined, 'and pollutes nothing')
})

t.test('invalid JSON throws the SyntaxError JSON.parse throws, never a repeated key', async (t) => {
  // A lenient tokenizer would accept the comment and the trailing comma; JSON.parse is the judge.
  for (const text of ['', '{', '{"a":1,}', '{"a":1 /* c */}', '{a:1}', "{'a':1}", '{"a":1}{"a":2}', '{"a":1,"a":}', 'NaN']) {
    const error = t.throws(() => parseStrictJson(text), SyntaxError, JSON.stringify(text))
    t.notOk(error instanceof RepeatedKeyError, `${JSON.stringify(text)}: not a repeated key`)
  }
})

t.test('deep nesting does not overflow the call stack', async (t) => {
  const depth = 200_000
  const deep = `${'{"a":['.repeat(depth)}{"b":1,"b":2}${']}'.repeat(depth)}`
  t.throws(() => parseStrictJson(deep), RepeatedKeyError, 'found at the bottom')
  const clean = `${'['.repeat(depth)}${']'.repeat(depth)}`
  t.ok(Array.isArray(parseStrictJson(clean)), 'nothing repeated: the value') // too deep for t.same to compare
})

// Measured alone: median ≈ 0.6 ms (0.3 ms of it the check). The bound is loose enough for a
// loaded CI machine running the suite in parallel, tight enough to catch a quadratic scan.
t.test('a 1,000-entry object of about 60 KB is checked within a few milliseconds', async (t) => {
  const text = JSON.stringify({ agent_id: 'a1', running: Object.fromEntries(Array.from({ length: 1000 }, () => [randomUUID(), 'RUNNING-0123456789'])) })
  t.ok(text.length > 55_000 && text.length < 65_000, `${text.length} bytes`)
  for (let i = 0; i < 50; i++) parseStrictJson(text) // warm up
  const times: number[] = []
  for (let i = 0; i < 101; i++) {
    const started = process.hrtime.bigint()
    parseStrictJson(text)
    times.push(Number(process.hrtime.bigint() - started) / 1e6)
  }
  const median = times.toSorted((a, b) => a - b)[50]!
  t.comment(`parse and check: median ${median.toFixed(3)} ms`)
  t.ok(median < 10, `median ${median.toFixed(3)} ms`)
})
