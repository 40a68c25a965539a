// The bare-route baseline for the ingest bench, in its own process: a fastify POST route with
// fastify's own JSON body parser and nothing else (no auth, no database, no logging).
// Prints its URL on stdout.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../packages/server/package.json', import.meta.url));
const { default: Fastify } = await import(require.resolve('fastify'));
const app = Fastify({ logger: false, bodyLimit: 6 * 1024 * 1024 });
app.post('/bare', async (request) => ({ ok: true, servers: Array.isArray(request.body?.servers) ? request.body.servers.length : 0 }));
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`http://127.0.0.1:${app.server.address().port}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
