import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { FastifyInstance } from 'fastify';

/** The TypeScript source of the browser snippet, in the SDK package. */
export const SNIPPET_SOURCE = fileURLToPath(new URL('../../../../../packages/sdk/src/snippet/snippet.ts', import.meta.url));

export interface BuiltSnippet {
  code: string;
  etag: string;
}

let built: Promise<BuiltSnippet> | undefined;

/** Bundles and minifies the snippet once per process (on first request), for browsers back to 2017. */
export function buildSnippet(): Promise<BuiltSnippet> {
  built ??= build({
    entryPoints: [SNIPPET_SOURCE],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2017',
    platform: 'browser',
    write: false,
    legalComments: 'none',
  }).then(
    (result) => {
      const code = result.outputFiles[0]!.text;
      return { code, etag: `"${createHash('sha256').update(code).digest('base64url').slice(0, 16)}"` };
    },
    (error: unknown) => {
      built = undefined; // let the next request try again
      throw error;
    },
  );
  return built;
}

/**
 * `GET /t.js`: cacheable by browsers and CDNs for a day (and served stale for a week while they
 * revalidate); the ETag changes with the code, so a deploy reaches visitors within a day.
 */
export function registerSnippet(app: FastifyInstance): void {
  app.get('/t.js', async (req, reply) => {
    const snippet = await buildSnippet();
    reply.header('cache-control', 'public, max-age=86400, stale-while-revalidate=604800').header('etag', snippet.etag);
    if (req.headers['if-none-match'] === snippet.etag) return reply.code(304).send();
    return reply.type('application/javascript; charset=utf-8').send(snippet.code);
  });
}
