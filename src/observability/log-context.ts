import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Fields every log line carries while a piece of work runs (the sweep id during a sweep), without
 * handing a logger down through every layer: the app's pino logger mixes them in.
 */
export const logContext = new AsyncLocalStorage<Record<string, unknown>>()

export function logContextFields (): Record<string, unknown> {
  return logContext.getStore() ?? {}
}
