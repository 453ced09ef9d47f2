// `npm run client`: writes schema.ts, the typed client's types, from openapi.yaml. Run from
// dist/clients/typescript/ after the build, like `npm run openapi`.
import { writeFile } from 'node:fs/promises'
import { generateSchema } from './generate.js'

const root = new URL('../../../', import.meta.url)
await writeFile(new URL('clients/typescript/schema.ts', root), await generateSchema(new URL('openapi.yaml', root)))
process.stdout.write('clients/typescript/schema.ts written\n')
