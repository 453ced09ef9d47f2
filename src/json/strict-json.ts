import { JsonToken, JsonTokens } from './json-tokens.js'

/** A JSON object repeats a key: `JSON.parse` would silently keep the last one. */
export class RepeatedKeyError extends SyntaxError {
  override readonly name = 'RepeatedKeyError'

  constructor (readonly key: string, readonly pointer: string) {
    super(`the key ${JSON.stringify(key)} appears more than once in ${pointer}`)
  }
}

/**
 * One open object (`keys` seen so far, `key` the member being read) or array (`keys` null,
 * `index` the element being read), on the way down to the current token.
 */
interface Frame {
  readonly keys: Set<string> | null
  key: string
  index: number
}

/** `/` for the top level, else an RFC 6901 JSON pointer such as `/kernels/0`. */
function pointerOf (frames: readonly Frame[]): string {
  const segments = frames.slice(0, -1).map((frame) =>
    frame.keys === null ? String(frame.index) : frame.key.replaceAll('~', '~0').replaceAll('/', '~1'))
  return `/${segments.join('/')}`
}

/**
 * Every repetition of a key in an object, at any depth, in document order. Keys compare after
 * decoding escapes, so `"a"` and `"\u0061"` are one key. `text` must already be valid JSON: a
 * caller that parsed it another way (Fastify's body parser) checks it with this alone.
 *
 * The structure is followed with a stack of our own rather than by recursion, which would overflow
 * the call stack on a text nested a few thousand levels deep (a 1 MiB body can nest half a million).
 */
export function * repeatedKeysIn (text: string): Generator<RepeatedKeyError> {
  const tokens = new JsonTokens(text)
  const frames: Frame[] = []
  let previous: JsonToken | undefined
  for (let token = tokens.next(); token !== JsonToken.END; token = tokens.next()) {
    const top = frames.at(-1)
    switch (token) {
      case JsonToken.OPEN_OBJECT:
        frames.push({ keys: new Set(), key: '', index: 0 })
        break
      case JsonToken.OPEN_ARRAY:
        frames.push({ keys: null, key: '', index: 0 })
        break
      case JsonToken.CLOSE_OBJECT:
      case JsonToken.CLOSE_ARRAY:
        frames.pop()
        break
      case JsonToken.COMMA:
        if (top !== undefined) top.index++
        break
      case JsonToken.STRING:
        // In valid JSON, a string right after `{` or after a `,` inside an object is a key.
        if (top?.keys != null && (previous === JsonToken.OPEN_OBJECT || previous === JsonToken.COMMA)) {
          const key = tokens.string()
          if (top.keys.has(key)) yield new RepeatedKeyError(key, pointerOf(frames))
          top.keys.add(key)
          top.key = key
        }
        break
    }
    previous = token
  }
}

/** Throws the first `RepeatedKeyError` of `repeatedKeysIn`. */
export function assertNoRepeatedKeys (text: string): void {
  const { value: first } = repeatedKeysIn(text).next()
  if (first !== undefined) throw first
}

/**
 * `JSON.parse`, except that an object with a repeated key is malformed (`RepeatedKeyError`)
 * instead of quietly meaning its last value: an ambiguous order or answer is never acted on.
 * Invalid JSON throws `JSON.parse`'s own `SyntaxError`.
 */
export function parseStrictJson (text: string): unknown {
  const value: unknown = JSON.parse(text)
  assertNoRepeatedKeys(text)
  return value
}
