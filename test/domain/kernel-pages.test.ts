import t from 'tap'
import type { HandlerKernel } from '../../src/domain/kernel-info.js'
import { KernelPages } from '../../src/domain/kernel-pages.js'
import { runningKernel } from '../helpers/kernels.js'

/** A source of `pages`, counting how often it is pulled; `fail` throws instead of the page at that index. */
function source (pages: ReadonlyArray<readonly HandlerKernel[]>, fail?: { at: number, error: Error }) {
  const state = { pulls: 0, returned: false }
  async function * generate (): AsyncGenerator<readonly HandlerKernel[]> {
    try {
      for (const [index, page] of pages.entries()) {
        state.pulls++
        await new Promise((resolve) => setImmediate(resolve))
        if (fail?.at === index) throw fail.error
        yield page
      }
    } finally {
      state.returned = true
    }
  }
  return { state, iterable: generate() }
}

const threePages = (): HandlerKernel[][] => [[runningKernel(), runningKernel()], [runningKernel()], [runningKernel(), runningKernel()]]

t.test('pages come in the source\'s order, and all() is every kernel in that order', async (t) => {
  const pages = threePages()
  const { state, iterable } = source(pages)
  const kernelPages = new KernelPages(iterable)
  const seen: Array<readonly HandlerKernel[]> = []
  for await (const page of kernelPages) seen.push(page)
  t.same(seen, pages)
  t.same(await kernelPages.all(), pages.flat())
  t.equal(state.pulls, 3, 'the source is read once')
})

t.test('a second reader, even at the same time, gets the same pages without a second read', async (t) => {
  const pages = threePages()
  const { state, iterable } = source(pages)
  const kernelPages = new KernelPages(iterable)
  const read = async (): Promise<Array<readonly HandlerKernel[]>> => {
    const seen: Array<readonly HandlerKernel[]> = []
    for await (const page of kernelPages) seen.push(page)
    return seen
  }
  const [first, second] = await Promise.all([read(), read()])
  t.same(first, pages)
  t.same(second, pages)
  t.same(await read(), pages, 'and a reader after both')
  t.equal(state.pulls, 3)
})

t.test('all() reads what nobody read yet', async (t) => {
  const pages = threePages()
  const kernelPages = new KernelPages(source(pages).iterable)
  const reader = kernelPages[Symbol.asyncIterator]()
  await reader.next()
  await reader.return(undefined)
  t.same(await kernelPages.all(), pages.flat())
})

t.test('a failed read fails every later read too: the pages before it are never taken for all', async (t) => {
  const pages = threePages()
  const broken = new Error('connection lost')
  const kernelPages = new KernelPages(source(pages, { at: 1, error: broken }).iterable)
  const seen: Array<readonly HandlerKernel[]> = []
  await t.rejects((async () => { for await (const page of kernelPages) seen.push(page) })(), broken)
  t.same(seen, [pages[0]], 'the page before the failure was handed out')
  await t.rejects(kernelPages.all(), broken)
  const reader = kernelPages[Symbol.asyncIterator]()
  t.same((await reader.next()).value, pages[0], 'a new reader gets the page read before the failure')
  await t.rejects(reader.next(), broken, 'and then the failure, not an end')
})

t.test('close() ends the source early, and reading on fails rather than seeming complete', async (t) => {
  const { state, iterable } = source(threePages())
  const kernelPages = new KernelPages(iterable)
  await kernelPages[Symbol.asyncIterator]().next()
  await kernelPages.close()
  t.ok(state.returned, 'the source was told to stop (its connection goes back)')
  await t.rejects(kernelPages.all(), /closed before they were all read/)
})

t.test('close() after the last page changes nothing', async (t) => {
  const pages = threePages()
  const kernelPages = new KernelPages(source(pages).iterable)
  t.same(await kernelPages.all(), pages.flat())
  await kernelPages.close()
  t.same(await kernelPages.all(), pages.flat())
})

t.test('isEmpty() reads the first page only', async (t) => {
  const { state, iterable } = source(threePages())
  const kernelPages = new KernelPages(iterable)
  t.equal(await kernelPages.isEmpty(), false)
  t.equal(state.pulls, 1)
  t.equal(await KernelPages.of([]).isEmpty(), true)
  t.equal(await new KernelPages(source([]).iterable).isEmpty(), true)
})

t.test('KernelPages.of: kernels in memory as one page, none for an empty list', async (t) => {
  const kernels = [runningKernel(), runningKernel()]
  const seen: Array<readonly HandlerKernel[]> = []
  for await (const page of KernelPages.of(kernels)) seen.push(page)
  t.same(seen, [kernels])
  const empty: Array<readonly HandlerKernel[]> = []
  for await (const page of KernelPages.of([])) empty.push(page)
  t.same(empty, [])
  t.same(await KernelPages.of([]).all(), [])
})
