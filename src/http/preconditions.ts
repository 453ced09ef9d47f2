import { HttpProblem } from './problem.js'

/** The strong entity tag of a kernel at `version` (RFC 9110 §8.8.3). */
export function versionETag (version: number): string {
  return `"${version}"`
}

const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e]*)"$/

/**
 * `If-Match` (RFC 9110 §13.1.1) as the versions it accepts: `'exists'` for `*`, else the versions
 * of its strong tags (weak tags never match a strong comparison; tags we never issue match no
 * version). Undefined when the header is absent; a value that is no list of entity tags is a 400.
 */
export function versionsFromIfMatch (header: string | undefined): readonly number[] | 'exists' | undefined {
  if (header === undefined) return undefined
  if (header.trim() === '*') return 'exists'
  const versions: number[] = []
  for (const part of header.split(',')) {
    const tag = ENTITY_TAG.exec(part.trim())
    if (tag === null) throw new HttpProblem(400, 'validation-error', 'Invalid request', 'headers/if-match must be * or a list of entity tags such as "3"')
    if (tag[1] === undefined && /^[1-9][0-9]{0,9}$/.test(tag[2]!)) versions.push(Number(tag[2]))
  }
  return versions
}
