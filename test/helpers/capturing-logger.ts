import type { Logger } from '../../src/logger.js'

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error'
  readonly fields: Record<string, unknown>
  readonly message: string
}

/** A logger that keeps what it is told, for asserting on warnings. */
export class CapturingLogger implements Logger {
  readonly entries: LogEntry[] = []

  debug = this.record('debug')
  info = this.record('info')
  warn = this.record('warn')
  error = this.record('error')

  at (level: LogEntry['level']): LogEntry[] {
    return this.entries.filter((entry) => entry.level === level)
  }

  private record (level: LogEntry['level']) {
    return (fieldsOrMessage: unknown, ...rest: unknown[]): void => {
      const hasFields = typeof fieldsOrMessage === 'object' && fieldsOrMessage !== null
      const fields = hasFields ? fieldsOrMessage as Record<string, unknown> : {}
      const [template, ...args] = hasFields ? rest : [fieldsOrMessage, ...rest]
      let index = 0
      const message = String(template ?? '').replace(/%[sdjo]/g, () => String(args[index++]))
      this.entries.push({ level, fields, message })
    }
  }
}
