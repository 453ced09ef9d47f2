/** Consecutive items that share a key, counted once: `[{ ...key, count }]` in input order. */
export type Run<Key> = Key & { readonly count: number }

export function encodeRuns<Item, Key extends object> (
  items: readonly Item[],
  keyOf: (item: Item) => Key,
  sameKey: (a: Key, b: Key) => boolean
): Array<Run<Key>> {
  const runs: Array<Run<Key>> = []
  let current: { key: Key, count: number } | undefined
  for (const item of items) {
    const key = keyOf(item)
    if (current !== undefined && sameKey(current.key, key)) {
      current.count++
    } else {
      if (current !== undefined) runs.push({ ...current.key, count: current.count })
      current = { key, count: 1 }
    }
  }
  if (current !== undefined) runs.push({ ...current.key, count: current.count })
  return runs
}

/** Pairs each id with the key of the run it falls in; the runs must account for every id. */
export function decodeRuns<Key extends object, Item> (
  ids: readonly string[],
  runs: ReadonlyArray<Run<Key>>,
  build: (id: string, key: Key) => Item
): Item[] {
  const items: Item[] = []
  for (const run of runs) {
    for (let i = 0; i < run.count; i++) {
      const id = ids[items.length]
      if (id === undefined) throw new Error('stored runs count more kernels than stored ids')
      items.push(build(id, run))
    }
  }
  if (items.length !== ids.length) throw new Error('stored runs count fewer kernels than stored ids')
  return items
}
