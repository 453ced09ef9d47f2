// A typed client for the kernel-sweeper API: openapi-fetch over the types openapi-typescript
// generated from openapi.yaml (schema.ts, `npm run client`). Paths, parameters, bodies and answers
// are checked by the compiler against the document, so a client that compiles speaks the contract.
import createClient, { type Client, type Middleware } from 'openapi-fetch'
import type { paths } from './schema.js'

export type { components, paths } from './schema.js'

/** The client: `GET`, `PUT`, `POST` on the document's paths; each answers `{ data, error, response }`. */
export type SweeperClient = Client<paths>

/**
 * The body of answer `status` to `method path`, whatever its media type (the document gives each
 * answer one: JSON, problem+json for errors, text for metrics). Taken from the operations, which
 * are the contract, rather than from `components.schemas` names, which are the document's layout
 * and may be renamed or inlined; the named schemas are still there as `components['schemas']`.
 */
export type ResponseBody<
  Path extends keyof paths,
  Method extends keyof paths[Path],
  Status extends number
> = paths[Path][Method] extends { responses: infer Responses }
  ? { [S in Status & keyof Responses]: Responses[S] extends { content: infer Content } ? Content[keyof Content] : never }[Status & keyof Responses]
  : never

/** A recorded sweep (`POST /v1/scaling-groups/{scaling_group}/sweeps`, `GET /v1/sweeps/{sweep_id}`). */
export type Sweep = ResponseBody<'/v1/sweeps/{sweep_id}', 'get', 200>

/** A kernel as the service holds it; `version` is its ETag. */
export type Kernel = ResponseBody<'/v1/kernels/{kernel_id}', 'get', 200>

/** A registered agent. */
export type Agent = ResponseBody<'/v1/agents/{agent_id}', 'get', 200>

/** A kernel's heartbeat as the sweeper reads it. */
export type KernelPresence = ResponseBody<'/v1/kernels/{kernel_id}/presence', 'get', 200>

/** One event of the log: an item of `GET /v1/events`, and the `data:` line of each `GET /v1/events/stream` frame. */
export type CloudEvent = ResponseBody<'/v1/events', 'get', 200>['items'][number]

/**
 * An error: RFC 9457 problem details, every `application/problem+json` body the document declares
 * (any operation, any status). Its `type` names the kind (`validation-error`, `precondition-failed`,
 * `lock-busy`, …), so a caller narrows on it. A call's `error` is already typed per operation; this
 * is the shape to pass around.
 */
export type Problem = ProblemOf<{ [Path in keyof paths]: paths[Path][keyof paths[Path]] }[keyof paths]>

type ProblemOf<Operation> = Operation extends { responses: infer Responses }
  ? { [S in keyof Responses]: Responses[S] extends { content: { 'application/problem+json': infer Body } } ? Body : never }[keyof Responses]
  : never

/**
 * A client for the service at `baseUrl` (e.g. `http://127.0.0.1:8080`). With `token` (the service's
 * `API_TOKEN`) every request carries `Authorization: Bearer <token>`; without, none does (a service
 * without `API_TOKEN` needs none, and `/healthz`, `/readyz`, `/metrics` never do).
 */
export function createSweeperClient (baseUrl: string, token?: string): SweeperClient {
  const client = createClient<paths>({ baseUrl })
  if (token !== undefined) client.use(bearer(token))
  return client
}

/**
 * The token as a middleware rather than a default header: it is set on the final request, after
 * openapi-fetch has merged a call's own `headers`, so no call (nor `client.request`) goes out
 * without it or with another one by accident.
 */
function bearer (token: string): Middleware {
  return {
    onRequest ({ request }) {
      request.headers.set('authorization', `Bearer ${token}`)
      return request
    },
  }
}
