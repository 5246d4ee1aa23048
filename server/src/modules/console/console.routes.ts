import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** The placeholder the console's build writes where each response's nonce goes (console/vite.config.ts). */
const NONCE_PLACEHOLDER = /__CSP_NONCE__/g;
/** Vite's hashed output: a changed file gets a new name, so a copy can be kept for good. */
const HASHED_DIR = 'assets/';

/** Whether `dir` holds a built console (its index.html). */
export function consoleBuilt(dir: string | undefined): dir is string {
  return !!dir && existsSync(path.join(dir, 'index.html'));
}

/**
 * The console's policy: scripts only from this origin, none inline; styles from this origin or carrying this
 * response's nonce (AntD's CSS-in-JS style tags); API calls to this origin; never framed.
 */
export function consolePolicy(nonce?: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    nonce ? `style-src 'self' 'nonce-${nonce}'` : "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function secure(reply: FastifyReply, nonce?: string): FastifyReply {
  return reply
    .header('content-security-policy', consolePolicy(nonce))
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer');
}

/**
 * The officials' web console at /console/ (a single-page app built by `pnpm build:console`): hashed assets cached
 * for a year, everything else revalidated; any other path under /console/ is a page of the app (deep links) and
 * gets index.html with a fresh CSP nonce. A missing file (a name with an extension) is a 404, not the app.
 */
export const consoleRoutes: FastifyPluginAsync<{ dir: string }> = async (app, { dir }) => {
  const root = path.resolve(dir);
  // Only reply.sendFile: the routes below decide what is served and with which headers.
  await app.register(fastifyStatic, { root, serve: false, dotfiles: 'deny', index: false });

  const page = async (reply: FastifyReply) => {
    const nonce = randomBytes(16).toString('base64');
    const html = (await readFile(path.join(root, 'index.html'), 'utf8')).replace(NONCE_PLACEHOLDER, nonce);
    return secure(reply, nonce)
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(html);
  };

  // Not API routes: left out of the OpenAPI document.
  const schema = { hide: true };

  app.get('/console', { schema }, (_req, reply) => reply.redirect('/console/', 301));

  app.get('/console/*', { schema }, async (req, reply) => {
    const rel = (req.params as { '*': string })['*'];
    const last = rel.split('/').pop() ?? '';
    if (rel === '' || rel === 'index.html' || !last.includes('.')) return page(reply);
    // A file: hashed assets for good, others (favicon) revalidated. Missing: send calls the 404 handler.
    secure(reply);
    if (rel.startsWith(HASHED_DIR))
      return reply.sendFile(rel, root, { cacheControl: true, maxAge: '365d', immutable: true });
    reply.header('cache-control', 'no-cache');
    return reply.sendFile(rel, root, { cacheControl: false });
  });
};
