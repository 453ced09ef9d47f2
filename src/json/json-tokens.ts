/** The tokens a `JsonTokens` scan stops at; colons, numbers, literals and whitespace are stepped over. */
export const JsonToken = {
  END: 0,
  OPEN_OBJECT: 1,
  CLOSE_OBJECT: 2,
  OPEN_ARRAY: 3,
  CLOSE_ARRAY: 4,
  COMMA: 5,
  STRING: 6,
} as const

export type JsonToken = typeof JsonToken[keyof typeof JsonToken]

const QUOTE = 0x22
const BACKSLASH = 0x5c

/** Where the string whose contents start at `from` ends: just past its closing quote, or the end of an unterminated one. */
function endOfString (text: string, from: number): number {
  for (let quote = text.indexOf('"', from); quote !== -1; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return quote + 1
  }
  return text.length
}

/**
 * The structure of a JSON text, a token at a time, at the cost of a look at each character:
 * strings are skipped with `indexOf`, and decoded only when asked (`string()`). jsonc-parser's
 * scanner, used before, decodes every string as it goes: a 1 MiB body of `"\n\n…"` took it
 * 0.2–0.3 s, where this takes a few milliseconds.
 *
 * It does not validate: on text that is not JSON it still ends, in linear time, with a structure
 * that means nothing. `JSON.parse` is the judge of validity.
 */
export class JsonTokens {
  private offset = 0
  private stringStart = 0

  constructor (private readonly text: string) {}

  next (): JsonToken {
    const text = this.text
    for (let i = this.offset; i < text.length; i++) {
      switch (text.charCodeAt(i)) {
        case 0x7b: this.offset = i + 1; return JsonToken.OPEN_OBJECT
        case 0x7d: this.offset = i + 1; return JsonToken.CLOSE_OBJECT
        case 0x5b: this.offset = i + 1; return JsonToken.OPEN_ARRAY
        case 0x5d: this.offset = i + 1; return JsonToken.CLOSE_ARRAY
        case 0x2c: this.offset = i + 1; return JsonToken.COMMA
        case QUOTE:
          this.stringStart = i
          this.offset = endOfString(text, i + 1)
          return JsonToken.STRING
      }
    }
    this.offset = text.length
    return JsonToken.END
  }

  /** The last string token, decoded; only for text that is valid JSON. */
  string (): string {
    const raw = this.text.slice(this.stringStart, this.offset)
    return raw.includes('\\') ? JSON.parse(raw) as string : raw.slice(1, -1)
  }
}
