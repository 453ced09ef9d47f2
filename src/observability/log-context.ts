import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Fields every log line carries while a piece of work runs (the sweep id during a sweep), without
 * handing a logger down through every layer: the app's pino logger mixes them in.
 */
export const logContext = new AsyncLocalStorage<Readonly<Record<string, unknown>>>()

/** A fresh object each call: pino merges a line's own fields into what the mixin returns. */
export function logContextFields (): Record<string, unknown> {
  return { ...logContext.getStore() }
}
