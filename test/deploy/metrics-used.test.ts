import { readFile } from 'node:fs/promises'
import t from 'tap'
import { parse } from 'yaml'
import { exposedSamples, promqlUses, unexposed } from '../helpers/exposed-metrics.js'

interface Panel { title: string, targets?: Array<{ expr?: string }>, panels?: Panel[] }
interface Dashboard { panels: Panel[], templating: { list: Array<{ name: string, type: string, query?: string }> } }
interface Rules { groups: Array<{ rules: Array<{ alert?: string, record?: string, expr: string }> }> }

const read = (path: string) => readFile(new URL(`../../deploy/${path}`, import.meta.url), 'utf8')
const dashboard = JSON.parse(await read('grafana/kernel-sweeper.json')) as Dashboard
const alerts = parse(await read('prometheus/alerts.yaml')) as Rules
const exposed = await exposedSamples(t)

t.test('the extraction finds the selectors, their matchers and the grouping labels', async (t) => {
  t.same(promqlUses('sum by (le, route) (rate(a_bucket{x="1", y=~"$v"}[$__rate_interval])) / on (route) b offset 5m > bool 0'), {
    selectors: [
      { metric: 'a_bucket', matchers: [{ label: 'x', op: '=', value: '1' }, { label: 'y', op: '=~', value: '$v' }] },
      { metric: 'b', matchers: [] },
    ],
    grouping: ['le', 'route', 'route'],
  })
  t.same(unexposed('kernel_sweeper_agents{status="GONE", zone="a"} or nope', exposed), [
    'kernel_sweeper_agents{status} is never "GONE"', 'kernel_sweeper_agents has no label zone', 'nope is not exposed',
  ], 'and names what is not exposed')
})

t.test('every dashboard query uses only metrics, labels and values the service exposes', async (t) => {
  const panels = dashboard.panels.flatMap((panel) => [panel, ...panel.panels ?? []])
  for (const panel of panels) {
    const exprs = (panel.targets ?? []).map(({ expr }) => expr ?? '')
    t.ok(exprs.length > 0 && exprs.every((expr) => expr !== ''), `${panel.title} has queries`)
    for (const expr of exprs) t.same(unexposed(expr, exposed), [], `${panel.title}: ${expr}`)
  }
})

t.test('every dashboard variable lists values of a label the service exposes', async (t) => {
  for (const variable of dashboard.templating.list.filter(({ type }) => type === 'query')) {
    const [, selector = '', label = ''] = /^label_values\((.+),\s*(\w+)\)$/.exec(variable.query ?? '') ?? []
    t.same(unexposed(selector, exposed), [], `$${variable.name}: ${selector}`)
    t.ok(promqlUses(selector).selectors.every(({ metric }) => exposed.get(metric)?.labels.has(label)), `$${variable.name}: label ${label}`)
  }
})

t.test('every alert rule uses only metrics, labels and values the service exposes', async (t) => {
  for (const rule of alerts.groups.flatMap(({ rules }) => rules)) {
    t.same(unexposed(rule.expr, exposed), [], `${rule.alert ?? rule.record}: ${rule.expr}`)
  }
})
