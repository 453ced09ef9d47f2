/**
 * Kernel ids as the sweeps table keeps them: 16 bytes each, one after another. Ids come from the
 * database's `uuid` type, so they are canonical; anything else is refused rather than written
 * wrong.
 */

/** The value of each hexadecimal digit by character code; -1 for every other character. */
const HEX_VALUE = new Int8Array(128).fill(-1)
for (let digit = 0; digit < 16; digit++) {
  HEX_VALUE[digit.toString(16).charCodeAt(0)] = digit
  HEX_VALUE[digit.toString(16).toUpperCase().charCodeAt(0)] = digit
}
/** Where the dashes of a canonical UUID are, and where each of its 16 bytes starts. */
const DASHES = [8, 13, 18, 23]
const BYTE_STARTS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34]

function hexValue (id: string, at: number): number {
  const value = HEX_VALUE[id.charCodeAt(at)] ?? -1
  if (value < 0) throw new TypeError(`not a UUID: ${JSON.stringify(id)}`)
  return value
}

export function packUuids (ids: readonly string[]): Buffer {
  const bytes = Buffer.allocUnsafe(16 * ids.length)
  let offset = 0
  for (const id of ids) {
    if (id.length !== 36 || DASHES.some((at) => id[at] !== '-')) throw new TypeError(`not a UUID: ${JSON.stringify(id)}`)
    for (const at of BYTE_STARTS) bytes[offset++] = (hexValue(id, at) << 4) | hexValue(id, at + 1)
  }
  return bytes
}

/** Lower-case canonical UUIDs, as Postgres prints them. */
export function unpackUuids (bytes: Uint8Array): string[] {
  if (bytes.length % 16 !== 0) throw new TypeError(`${bytes.length} bytes are not a list of UUIDs`)
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
  const ids = new Array<string>(bytes.length / 16)
  for (let i = 0, at = 0; i < ids.length; i++, at += 32) {
    ids[i] = `${hex.slice(at, at + 8)}-${hex.slice(at + 8, at + 12)}-${hex.slice(at + 12, at + 16)}-${hex.slice(at + 16, at + 20)}-${hex.slice(at + 20, at + 32)}`
  }
  return ids
}
