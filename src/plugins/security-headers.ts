import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'

/**
 * Helmet's headers on every answer (`X-Content-Type-Options: nosniff`, `Referrer-Policy`,
 * `Strict-Transport-Security` for whoever serves the service over TLS, the cross-origin policies),
 * with a Content-Security-Policy for an API: an answer is data, never a page, so nothing may be
 * loaded or run from it, nor may it be framed. Swagger UI at `/docs` is a page and sets its own
 * policy (swagger.ts).
 */
export default fp(async (fastify) => {
  await fastify.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    frameguard: { action: 'deny' },
  })
}, { name: 'security-headers' })
