/** A cursor that this service did not issue (or that names no valid key). */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError'
}

/** The last key of a page, wrapped so clients treat it as opaque. */
export function encodeCursor (key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url')
}

/** The key a cursor wraps, or `InvalidCursorError` when it is not a key `isKey` accepts. */
export function decodeCursor (cursor: string, isKey: (key: string) => boolean): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!isKey(key)) throw new InvalidCursorError('cursor is not one this service issued')
  return key
}
