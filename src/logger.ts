import type { BaseLogger } from 'pino'

/** The slice of pino the core uses, so tests can capture what the core says. */
export type Logger = Pick<BaseLogger, 'debug' | 'info' | 'warn' | 'error'>
