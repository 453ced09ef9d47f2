// Fastify's bare hello world, as the context for P4: what one route costs on this machine.
import Fastify from 'fastify'

const app = Fastify()
app.get('/', async () => ({ hello: 'world' }))
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) })
process.stdout.write('listening\n')
