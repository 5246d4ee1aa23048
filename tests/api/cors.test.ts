import { expect, it } from 'vitest';
import { useTestApp } from '../support/fixtures.js';

const t = useTestApp({ CORS_ORIGINS: 'http://127.0.0.1:10086' });

it('lets the configured h5 origin call the API (preflight and response headers)', async () => {
  const pre = await t
    .http()
    .options('/v1/rides')
    .set('origin', 'http://127.0.0.1:10086')
    .set('access-control-request-method', 'POST')
    .set('access-control-request-headers', 'authorization,content-type');
  expect(pre.status).toBe(204);
  expect(pre.headers['access-control-allow-origin']).toBe('http://127.0.0.1:10086');
  expect(pre.headers['access-control-allow-headers']).toContain('authorization');
  const res = await t.http().get('/v1/consent').set('origin', 'http://127.0.0.1:10086').expect(200);
  expect(res.headers['access-control-allow-origin']).toBe('http://127.0.0.1:10086');
});

it('gives other origins no CORS grant', async () => {
  const res = await t.http().get('/v1/consent').set('origin', 'https://evil.example').expect(200);
  expect(res.headers['access-control-allow-origin']).toBeUndefined();
});
