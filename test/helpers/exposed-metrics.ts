import { Histogram, Summary } from 'prom-client'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { AGENT_STATUSES } from '../../src/domain/agent.js'
import { SweepOutcome } from '../../src/domain/sweep.js'

/** A sample name `/metrics` can carry: its label names, and for some labels every value it can take. */
export interface ExposedSample {
  readonly labels: ReadonlySet<string>
  readonly values: ReadonlyMap<string, ReadonlySet<string>>
}

/** Labels Prometheus adds to every sample at scrape time. */
const TARGET_LABELS = ['instance', 'job']

/** Label values that appear only after events a fresh service has not had. */
const LATER_VALUES: Record<string, Record<string, readonly string[]>> = {
  kernel_sweeper_agents: { status: AGENT_STATUSES },
  kernel_sweeper_sweeps_total: { outcome: Object.values(SweepOutcome) },
  kernel_sweeper_sweep_duration_seconds_bucket: { outcome: Object.values(SweepOutcome) },
  kernel_sweeper_sweep_duration_seconds_sum: { outcome: Object.values(SweepOutcome) },
  kernel_sweeper_sweep_duration_seconds_count: { outcome: Object.values(SweepOutcome) },
}

/**
 * Every sample name the service's `/metrics` serves, from the registry that route serves, in the
 * service itself (embedded stores, no background sweeps; closed at teardown). The values a label
 * has in a fresh service are taken as all it can have (the service creates the series of known
 * values at 0), with `LATER_VALUES` added.
 */
export async function exposedSamples (t: Test): Promise<ReadonlyMap<string, ExposedSample>> {
  const app = await buildApp(loadConfig({ DATA_DIR: 'memory://', SWEEP_INTERVAL_SEC: '0' }), { logger: false })
  t.teardown(() => app.close())
  const { registry } = app.sweeper.metrics
  const samples = new Map<string, { labels: Set<string>, values: Map<string, Set<string>> }>()
  const sample = (name: string, labels: readonly string[]) => {
    samples.set(name, { labels: new Set([...labels, ...TARGET_LABELS]), values: new Map() })
  }
  for (const metric of registry.getMetricsAsArray()) {
    // prom-client keeps every metric's label names, but its types leave the field out.
    const labels = (metric as unknown as { labelNames: readonly string[] }).labelNames
    if (metric instanceof Histogram || metric instanceof Summary) {
      sample(metric instanceof Histogram ? `${metric.name}_bucket` : metric.name, [...labels, metric instanceof Histogram ? 'le' : 'quantile'])
      sample(`${metric.name}_sum`, labels)
      sample(`${metric.name}_count`, labels)
    } else {
      sample(metric.name, labels)
    }
  }
  const addValue = (name: string, label: string, value: string) => {
    const values = samples.get(name)?.values
    if (values === undefined) throw new Error(`${name} has values but is not registered`)
    values.set(label, (values.get(label) ?? new Set()).add(value))
  }
  for (const metric of await registry.getMetricsAsJSON()) {
    // A histogram's values name their sample (`_bucket`, `_sum`, `_count`); the types leave it out.
    for (const value of metric.values as ReadonlyArray<typeof metric.values[number] & { metricName?: string }>) {
      for (const [label, labelValue] of Object.entries(value.labels)) if (label !== 'le') addValue(value.metricName ?? metric.name, label, String(labelValue))
    }
  }
  for (const [name, labels] of Object.entries(LATER_VALUES)) {
    for (const [label, values] of Object.entries(labels)) for (const value of values) addValue(name, label, value)
  }
  return samples
}

interface Selector {
  readonly metric: string
  readonly matchers: ReadonlyArray<{ readonly label: string, readonly op: string, readonly value: string }>
}

/** Strings, ranges (`[5m]`, `[$__rate_interval]`), label matchers, names, numbers, Grafana variables, one character. */
const LEXEME = /\s+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\[[^\]]*\]|\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\}|[a-zA-Z_:][\w:]*|\d[\w.]*|\$\w+|./gy
const MATCHER = /([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'])
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan'])

/** The series selectors of a PromQL expression, and the labels it groups or matches on. */
export function promqlUses (expr: string): { selectors: Selector[], grouping: string[] } {
  const tokens = (expr.match(LEXEME) ?? []).filter((token) => token.trim() !== '')
  const selectors: Selector[] = []
  const grouping: string[] = []
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? ''
    const next = tokens[i + 1]
    if (token.startsWith('{')) throw new Error(`a selector without a metric name is not supported here: ${expr}`)
    if (!/^[a-zA-Z_:]/.test(token) || KEYWORDS.has(token)) continue
    if (GROUPING.has(token)) {
      if (next !== '(') continue
      for (i += 2; i < tokens.length && tokens[i] !== ')'; i++) if (tokens[i] !== ',') grouping.push(tokens[i] ?? '')
    } else if (next === '(' || (next !== undefined && GROUPING.has(next))) {
      continue // a function, or an aggregation (`sum by (…) (…)`)
    } else if (next?.startsWith('{') === true) {
      selectors.push({ metric: token, matchers: [...next.matchAll(MATCHER)].map(([, label = '', op = '', value = '']) => ({ label, op, value })) })
      i++
    } else {
      selectors.push({ metric: token, matchers: [] })
    }
  }
  return { selectors, grouping }
}

/** What in a PromQL expression the service does not expose: metrics, labels, values of labels whose values are all known. */
export function unexposed (expr: string, exposed: ReadonlyMap<string, ExposedSample>): string[] {
  const { selectors, grouping } = promqlUses(expr)
  const problems: string[] = []
  for (const { metric, matchers } of selectors) {
    const sample = exposed.get(metric)
    if (sample === undefined) {
      problems.push(`${metric} is not exposed`)
      continue
    }
    for (const { label, op, value } of matchers) {
      const values = sample.values.get(label)
      if (!sample.labels.has(label)) problems.push(`${metric} has no label ${label}`)
      else if ((op === '=' || op === '!=') && values !== undefined && !values.has(value)) problems.push(`${metric}{${label}} is never "${value}"`)
    }
  }
  for (const label of grouping) {
    if (!selectors.some(({ metric }) => exposed.get(metric)?.labels.has(label))) problems.push(`no metric here has the label ${label}`)
  }
  return problems
}
