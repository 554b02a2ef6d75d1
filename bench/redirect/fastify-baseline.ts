/**
 * The framework's own ceiling for the redirect, as a reference point in the benchmark: Fastify 5
 * answering `/r/:key` with a Map lookup, a 302 and a Set-Cookie — no click id, no database.
 * Usage: node --import tsx bench/redirect/fastify-baseline.ts <port>
 */
import Fastify from 'fastify';

const links = new Map([['bench', 'https://example.com/']]);
const app = Fastify({ logger: false });
app.get<{ Params: { key: string } }>('/r/:key', (req, reply) => {
  const destination = links.get(req.params.key);
  if (!destination) return reply.code(404).send('not found');
  reply
    .code(302)
    .header('location', destination)
    .header('set-cookie', 'tdm_click=clk_0; Max-Age=2592000; Path=/; SameSite=Lax; HttpOnly')
    .send();
});
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
