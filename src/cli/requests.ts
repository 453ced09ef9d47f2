import { dataOf, type Answer } from './exit-codes.js'

/** The most a list route gives per page: a long list in few round trips. */
const PAGE_SIZE = 1000

interface Page<Item> {
  readonly items: Item[]
  readonly next_cursor: string | null
}

type Present<Params> = { [Name in keyof Params]?: Exclude<Params[Name], undefined> }

/**
 * A query string's parameters without the unset ones: the typed client, under exactOptionalPropertyTypes,
 * takes an absent parameter, not an undefined one.
 */
export function query<Params extends Readonly<Record<string, unknown>>> (params: Params): Present<Params> {
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined)) as Present<Params>
}

/** Every item of a paged list (`kernels`, `agents`): pages are read until one has no `next_cursor`. */
export async function allPages<Item> (readPage: (cursor: string | undefined, limit: number) => Promise<Answer<Page<Item>>>): Promise<Item[]> {
  const items: Item[] = []
  let cursor: string | undefined
  do {
    const page = await dataOf(readPage(cursor, PAGE_SIZE))
    items.push(...page.items)
    cursor = page.next_cursor ?? undefined
  } while (cursor !== undefined)
  return items
}
