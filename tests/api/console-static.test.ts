import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/fixtures.js';

// A stand-in for `pnpm build:console` output: nothing is built here.
const dir = mkdtempSync(path.join(tmpdir(), 'rt-console-'));
mkdirSync(path.join(dir, 'assets'));
writeFileSync(
  path.join(dir, 'index.html'),
  '<!doctype html><html><head><meta property="csp-nonce" nonce="__CSP_NONCE__">' +
    '<script type="module" src="/console/assets/index-abc123.js" nonce="__CSP_NONCE__"></script></head>' +
    '<body><div id="root"></div></body></html>',
);
writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log("console");');
writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
writeFileSync(path.join(dir, '.secret'), 'not served');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const t = useTestApp({ CONSOLE_DIR: dir });
const off = useTestApp({ CONSOLE_DIR: 'off' });

/** The nonce of a Content-Security-Policy's style-src. */
const nonceOf = (csp: string) => /style-src 'self' 'nonce-([^']+)'/.exec(csp)?.[1];

describe('the console at /console/', () => {
  it('serves index.html uncached, with a strict policy and a fresh nonce written into the page', async () => {
    const a = await t.http().get('/console/').expect(200);
    expect(a.headers['content-type']).toMatch(/^text\/html/);
    expect(a.headers['cache-control']).toBe('no-cache');
    const csp = a.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(a.headers['x-frame-options']).toBe('DENY');
    const nonce = nonceOf(csp);
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(a.text).not.toContain('__CSP_NONCE__');
    expect(a.text).toContain(`<meta property="csp-nonce" nonce="${nonce}">`);

    const b = await t.http().get('/console/').expect(200);
    expect(nonceOf(b.headers['content-security-policy'] as string)).not.toBe(nonce);
  });

  it('answers deep links of the app with the app (SPA fallback)', async () => {
    for (const url of [
      '/console/cases',
      '/console/cases/0b8e6f1e-3c55-4c1b-9f3e-2d9d1f0f2a11',
      '/console/index.html',
    ]) {
      const res = await t.http().get(url).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<div id="root">');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
  });

  it('redirects /console to /console/', async () => {
    const res = await t.http().get('/console').expect(301);
    expect(res.headers.location).toBe('/console/');
  });

  it('caches hashed assets for a year, immutable; other files are revalidated', async () => {
    const js = await t.http().get('/console/assets/index-abc123.js').expect(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-security-policy']).toContain("default-src 'self'");
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    const icon = await t.http().get('/console/favicon.svg').expect(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('answers a missing asset with a 404 error body, not the app', async () => {
    for (const url of [
      '/console/assets/index-gone.js',
      '/console/assets/nested/missing.css',
      '/console/missing.png',
    ]) {
      const res = await t.http().get(url).expect(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.error.code).toBe('route_not_found');
    }
  });

  it('serves nothing outside its directory, and no dotfiles', async () => {
    for (const url of [
      '/console/..%2f..%2fpackage.json',
      '/console/assets/..%2f..%2f..%2fpackage.json',
      '/console/.secret',
    ]) {
      const res = await t.http().get(url);
      expect([403, 404]).toContain(res.status);
      expect(res.text).not.toContain('not served');
      expect(res.text).not.toContain('"name"');
    }
  });

  it('is left out of the OpenAPI document', async () => {
    const doc = (await t.http().get('/docs/json').expect(200)).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
  });

  it('is not served with CONSOLE_DIR=off', async () => {
    const res = await off.http().get('/console/').expect(404);
    expect(res.body.error.code).toBe('route_not_found');
  });
});
