import { ERRORS, ERROR_CODES } from '@ridetrace/shared';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { useTestApp } from '../support/fixtures.js';

const guide = readFileSync(new URL('../../docs/integrators.md', import.meta.url), 'utf8');

const t = useTestApp();

it('the integrator guide lists every error code with its HTTP status', () => {
  const missing = ERROR_CODES.filter(
    (c) => !new RegExp(`\\|\\s*\`${c}\`\\s*\\|\\s*${ERRORS[c].status}\\s*\\|`).test(guide),
  );
  expect(missing).toEqual([]);
});

it('the integrator guide mentions every API route of the OpenAPI document', async () => {
  const doc = (await t.http().get('/docs/json').expect(200)).body as { paths: Record<string, unknown> };
  const missing = Object.keys(doc.paths)
    .filter((p) => p.startsWith('/v1/') || p === '/health' || p === '/ready')
    .map((p) => p.replace(/\{(\w+)\}/g, ':$1'))
    .filter((p) => !guide.includes(p));
  expect(missing).toEqual([]);
});
