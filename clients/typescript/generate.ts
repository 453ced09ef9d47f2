// The typed client's schema, generated from openapi.yaml by openapi-typescript 7. `npm run client`
// writes it to schema.ts (generate-command.ts); test/clients/typescript-client.test.ts calls this
// same function and fails when schema.ts differs, so both always produce the same bytes.
import openapiTS, { astToString } from 'openapi-typescript'

/** The first lines of schema.ts: says what made it, so nobody edits it by hand. */
export const HEADER = `/**
 * Generated from openapi.yaml by openapi-typescript (\`npm run client\`): do not edit by hand.
 * test/clients/typescript-client.test.ts fails when this file differs from what that command makes.
 */

`

/**
 * schema.ts for the OpenAPI document at `document` (a file URL). Called here rather than through
 * the CLI so that the output does not depend on a redocly.yaml in the working directory, which the
 * CLI would pick up.
 *
 * `defaultNonNullable: false`: by default openapi-typescript makes every property with a `default`
 * required, except in inline request bodies — so a request schema shared through
 * `components.schemas` (SweepRequest: `dry_run`, `force`, `handler`) would demand all of them, when
 * the server fills them in. A property the server always sends is in its schema's `required` list.
 */
export async function generateSchema (document: URL): Promise<string> {
  return HEADER + astToString(await openapiTS(document, { defaultNonNullable: false, silent: true }))
}
