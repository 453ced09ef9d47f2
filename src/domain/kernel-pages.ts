import type { HandlerKernel } from './kernel-info.js'

/**
 * The kernels a sweep works on, a page at a time as the database hands them over, so the first
 * pages are checked while the rest is still being read. Each page is read once and remembered:
 * whoever iterates later (or at the same time) gets the same pages in the same order, and `all()`
 * the whole list once the source is exhausted.
 */
export class KernelPages implements AsyncIterable<readonly HandlerKernel[]> {
  readonly #read: Array<readonly HandlerKernel[]> = []
  #source: AsyncIterator<readonly HandlerKernel[]> | null
  #pulling: Promise<void> | null = null
  #all: readonly HandlerKernel[] | null = null
  /** A failed read fails every later one too: the pages before it are never mistaken for all. */
  #failure: { error: unknown } | null = null

  constructor (source: AsyncIterable<readonly HandlerKernel[]>) {
    this.#source = source[Symbol.asyncIterator]()
  }

  /** Kernels already in memory, as one page. */
  static of (kernels: readonly HandlerKernel[]): KernelPages {
    return new KernelPages((async function * () { if (kernels.length > 0) yield kernels })())
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<readonly HandlerKernel[]> {
    for (let index = 0; ; index++) {
      const page = await this.#pageAt(index)
      if (page === null) return
      yield page
    }
  }

  /** Whether there is no kernel at all: reads the first page, no more. */
  async isEmpty (): Promise<boolean> {
    return await this.#pageAt(0) === null
  }

  /** Every kernel, in the source's order: reads what is left first. */
  async all (): Promise<readonly HandlerKernel[]> {
    if (this.#all !== null) return this.#all
    for (let index = 0; await this.#pageAt(index) !== null; index++);
    this.#all ??= this.#read.length === 1 ? this.#read[0]! : this.#read.flat()
    return this.#all
  }

  /** Stops reading (its connection goes back to the pool); reading on after that fails. */
  async close (): Promise<void> {
    const source = this.#source
    if (source === null) return
    this.#source = null
    this.#failure ??= { error: new Error('the kernel pages were closed before they were all read') }
    await source.return?.()
  }

  async #pageAt (index: number): Promise<readonly HandlerKernel[] | null> {
    while (index >= this.#read.length) {
      if (this.#failure !== null) throw this.#failure.error
      if (this.#source === null) return null
      // One read at a time, shared by everyone waiting: pages arrive in order, none twice.
      this.#pulling ??= this.#pull().finally(() => { this.#pulling = null })
      await this.#pulling
    }
    return this.#read[index]!
  }

  async #pull (): Promise<void> {
    if (this.#failure !== null) throw this.#failure.error
    const source = this.#source
    if (source === null) return
    try {
      const next = await source.next()
      if (next.done === true) this.#source = null
      else this.#read.push(next.value)
    } catch (error) {
      this.#failure = { error }
      throw error
    }
  }
}
