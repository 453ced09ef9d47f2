import { readFile } from 'node:fs/promises'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { knownSettings, loadConfig } from '../../src/config.js'

// No Kubernetes JSON schemas are at hand offline: the manifest is checked for its structure and
// for agreeing with itself and with the service.

interface Probe { httpGet?: { path: string, port: string | number } }
interface Container {
  name: string
  ports?: Array<{ name?: string, containerPort: number }>
  env?: Array<{ name: string }>
  envFrom?: Array<{ configMapRef?: { name: string }, secretRef?: { name: string } }>
  livenessProbe?: Probe
  readinessProbe?: Probe
  securityContext?: { runAsNonRoot?: boolean, runAsUser?: number, readOnlyRootFilesystem?: boolean, allowPrivilegeEscalation?: boolean }
}
interface Manifest {
  apiVersion: string
  kind: string
  metadata: { name: string, labels?: Record<string, string> }
  data?: Record<string, string>
  stringData?: Record<string, string>
  spec?: {
    replicas?: number
    minAvailable?: number
    /** `matchLabels` in a Deployment and a PodDisruptionBudget, labels themselves in a Service. */
    selector?: { matchLabels?: Record<string, string>, [label: string]: unknown }
    ports?: Array<{ port: number, targetPort: string | number }>
    template?: { metadata: { labels: Record<string, string> }, spec: { securityContext?: Container['securityContext'], containers: Container[] } }
  }
}

const documents = parseAllDocuments(await readFile(new URL('../../deploy/kubernetes/kernel-sweeper.yaml', import.meta.url), 'utf8'))
const manifests = documents.map((document) => document.toJS() as Manifest)
function only (kind: string): Manifest {
  const found = manifests.filter((manifest) => manifest.kind === kind)
  if (found.length !== 1) throw new Error(`${found.length} ${kind}s`)
  return found[0] as Manifest
}

t.test('every document parses and names its apiVersion, kind and name', async (t) => {
  for (const [i, document] of documents.entries()) {
    t.same(document.errors, [], `document ${i} parses`)
    const { apiVersion, kind, metadata } = manifests[i] ?? {}
    t.ok(apiVersion && kind && metadata?.name, `document ${i}: ${apiVersion} ${kind} ${metadata?.name}`)
  }
  t.same(manifests.map(({ apiVersion, kind }) => `${apiVersion} ${kind}`).sort(), [
    'apps/v1 Deployment', 'policy/v1 PodDisruptionBudget', 'v1 ConfigMap', 'v1 Secret', 'v1 Service',
  ])
})

const deployment = only('Deployment')
const configMap = only('ConfigMap')
const secret = only('Secret')
const pod = deployment.spec?.template
const podLabels = pod?.metadata.labels ?? {}
const container = pod?.spec.containers[0]
const selects = (selector: Record<string, unknown> | undefined) =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => podLabels[key] === value)
/** The container port a probe or the Service names, by name or by number. */
const containerPort = (port: string | number | undefined) =>
  container?.ports?.find(({ name, containerPort }) => port === name || port === containerPort)?.containerPort

t.test('one container, whose settings come from the ConfigMap and the Secret and are all the service\'s own', async (t) => {
  t.equal(pod?.spec.containers.length, 1)
  t.same(container?.envFrom, [{ configMapRef: { name: configMap.metadata.name } }, { secretRef: { name: secret.metadata.name } }])
  const known = new Set(knownSettings().map(({ name }) => name))
  const set = [...Object.keys(configMap.data ?? {}), ...Object.keys(secret.stringData ?? secret.data ?? {}), ...(container?.env ?? []).map(({ name }) => name)]
  for (const name of set) t.ok(known.has(name), `${name} is a setting`)
  t.ok('DATABASE_URL' in (secret.stringData ?? {}) && 'VALKEY_URL' in (secret.stringData ?? {}), 'the stores\' addresses are in the Secret')
})

t.test('the probes ask /healthz and /readyz on the port the service listens on', async (t) => {
  // The settings as the container gets them; HOST comes from the image.
  const { port } = loadConfig({ ...configMap.data, ...secret.stringData })
  t.equal(containerPort(container?.livenessProbe?.httpGet?.port), port)
  t.equal(container?.livenessProbe?.httpGet?.path, '/healthz')
  t.equal(containerPort(container?.readinessProbe?.httpGet?.port), port)
  t.equal(container?.readinessProbe?.httpGet?.path, '/readyz')
})

t.test('the container runs as a user that is not root, on a read-only root file system', async (t) => {
  const security = { ...pod?.spec.securityContext, ...container?.securityContext }
  t.equal(security.runAsNonRoot, true)
  t.not(security.runAsUser, 0)
  t.equal(security.readOnlyRootFilesystem, true)
  t.equal(security.allowPrivilegeEscalation, false)
})

t.test('the Deployment, the Service and the PodDisruptionBudget select the Deployment\'s pods', async (t) => {
  t.ok(selects(deployment.spec?.selector?.matchLabels), 'Deployment')
  const service = only('Service')
  t.ok(selects(service.spec?.selector), 'Service')
  for (const { targetPort } of service.spec?.ports ?? []) t.ok(containerPort(targetPort), `the Service targets the container port ${targetPort}`)
  const budget = only('PodDisruptionBudget')
  t.ok(selects(budget.spec?.selector?.matchLabels), 'PodDisruptionBudget')
  t.ok((budget.spec?.minAvailable ?? 0) < (deployment.spec?.replicas ?? 1), 'the budget leaves a pod to evict, or nodes could never drain')
})
