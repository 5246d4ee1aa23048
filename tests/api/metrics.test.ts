import {
  ConfigError,
  cutoffDay,
  listenMetrics,
  loadConfig,
  metricsOf,
  poolOf,
  purgeRecords,
  type MetricsListener,
} from '@ridetrace/server';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNotifyWorld, useTestApp } from '../support/fixtures.js';
import { expectError, notifyCase, openCase, passengerIdOf, scanRide, waitFor } from '../support/flows.js';
import { confirmedPassenger, createCarrier } from '../support/test-app.js';

const MIN = 60_000;
const TOKEN = 'metrics-token-for-tests-0123456789';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** `name{labels} value` lines of a Prometheus text exposition, by series (name plus labels as written). */
function series(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** The value of the series named exactly (name and labels in prom-client's order), 0 when absent. */
const value = (s: Map<string, number>, key: string) => s.get(key) ?? 0;

describe('metrics', () => {
  const { t, w, msg } = useNotifyWorld({ NOTIFY_BACKOFF_BASE_MS: '20' });
  let open: MetricsListener;
  let guarded: MetricsListener;

  beforeAll(async () => {
    const metrics = metricsOf(t.app.ctx);
    open = await listenMetrics(metrics, { host: '127.0.0.1', port: 0, token: undefined });
    guarded = await listenMetrics(metrics, { host: '127.0.0.1', port: 0, token: TOKEN });
  });
  afterAll(async () => {
    await open?.close();
    await guarded?.close();
  });

  async function scrape(): Promise<{ text: string; s: Map<string, number> }> {
    const res = await fetch(`${open.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    return { text, s: series(text) };
  }

  it('answers Prometheus text format on its own listener, with process metrics; nothing else there', async () => {
    const res = await fetch(`${open.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE ridetrace_http_requests_total counter');
    expect(text).toContain('# TYPE ridetrace_http_request_duration_seconds histogram');
    expect(text).toContain('# TYPE ridetrace_shed_requests_total counter');
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
    const s = series(text);
    expect(s.get('ridetrace_db_pool_max')).toBe(poolOf(t.db)!.options.max);
    expect(s.has('ridetrace_db_pool_waiting')).toBe(true);
    expect(s.has('ridetrace_db_pool_connections{state="in_use"}')).toBe(true);
    expect((await fetch(`${open.url}/`)).status).toBe(404);
    expect((await fetch(`${open.url}/metrics`, { method: 'POST' })).status).toBe(404);
  });

  it('is not served on the public port', async () => {
    expectError(await t.http().get('/metrics'), 404, 'route_not_found');
  });

  it('token mode refuses a missing or wrong bearer token', async () => {
    const url = `${guarded.url}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    const wrong = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('ridetrace_');
    expect((await fetch(url, { headers: { authorization: TOKEN } })).status).toBe(401);
    const right = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('ridetrace_scans_total');
  });

  it('counts scans, batches, traces, deliveries and purges, with route templates and no personal data', async () => {
    const before = (await scrape()).s;
    const { carrier, code } = await createCarrier(t, w.tokens.operator, {
      kind: 'bus',
      plate: '粤B77001',
      route: '36路',
      city: '深圳',
    });
    const people = [
      { user: 'metrics-subject', name: '王大明', phone: '13700001111' },
      { user: 'metrics-contact', name: '李小红', phone: '13700002222' },
    ];
    const auths: string[] = [];
    const ids: string[] = [];
    const rideIds: string[] = [];
    for (const [i, p] of people.entries()) {
      const auth = await confirmedPassenger(t, p.user, { name: p.name, phone: p.phone });
      auths.push(auth);
      ids.push(await passengerIdOf(t, auth));
      const boardedAt = new Date(Date.now() - (20 - i * 5) * MIN).toISOString();
      rideIds.push((await scanRide(t, auth, code.url, boardedAt)).id);
    }
    // A retry with the same clientRideId, and a refused scan (a code that is not one).
    const clientRideId = randomUUID();
    const scanNow = () =>
      t.http().post('/v1/rides').set('authorization', auths[1]!).send({ code: code.url, clientRideId });
    expect((await scanNow()).status).toBe(201);
    const retried = await scanNow();
    expect(retried.status).toBe(200);
    expect(retried.body.repeat).toBeUndefined();
    const refused = await t
      .http()
      .post('/v1/rides')
      .set('authorization', auths[1]!)
      .send({ code: 'https://rt.example.cn/C/not-a-code', clientRideId: randomUUID() });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const refusedCode = refused.body.error.code as string;

    const c = await openCase(t, w.tokens.official, {
      subject: { phone: people[0]!.phone },
      caseNumber: 'C-METRICS-1',
      reason: 'positive PCR (metrics)',
    });
    expect(c.status).toBe(201);
    const caseId = c.body.id as string;
    const official = w.tokens.official;
    await t.http().get(`/v1/cases/${caseId}/exposures`).set('authorization', official).expect(200);
    await t.http().get(`/v1/cases/${caseId}/exposures?degree=2`).set('authorization', official).expect(200);
    await t.http().get(`/v1/cases/${caseId}/exposures.csv`).set('authorization', official).expect(200);
    expect((await notifyCase(t, official, caseId)).status).toBe(200);
    const report = await purgeRecords(t.app.ctx, {
      before: cutoffDay(t.app.ctx, t.config.rides.retentionDays),
      dryRun: false,
      actor: 'test:metrics',
    });
    expect(report.ran).toBe(true);

    const sent = 'ridetrace_notification_deliveries_total{channel="superapp",result="sent"}';
    const after = await waitFor(scrape, (r) => value(r.s, sent) > value(before, sent));
    expect(msg.calls).toBeGreaterThan(0);
    const { s, text } = after;
    const moved = (key: string) => value(s, key) - value(before, key);

    expect(moved('ridetrace_scans_total{result="created"}')).toBeGreaterThanOrEqual(3);
    expect(moved('ridetrace_scans_total{result="retried"}')).toBe(1);
    expect(moved(`ridetrace_scans_total{result="refused",code="${refusedCode}"}`)).toBe(1);
    expect(moved('ridetrace_ride_batch_size_count')).toBeGreaterThanOrEqual(3);
    expect(moved('ridetrace_ride_batch_commit_seconds_count{outcome="committed"}')).toBeGreaterThanOrEqual(3);
    expect(moved('ridetrace_trace_duration_seconds_count{format="json",degree="1"}')).toBe(1);
    expect(moved('ridetrace_trace_duration_seconds_count{format="json",degree="2"}')).toBe(1);
    expect(moved('ridetrace_trace_duration_seconds_count{format="csv",degree="1"}')).toBe(1);
    expect(moved(sent)).toBeGreaterThanOrEqual(1);
    expect(s.has('ridetrace_notifications_backlog')).toBe(true);
    expect(s.has('ridetrace_notifications_backlog_oldest_seconds')).toBe(true);
    expect(moved('ridetrace_purge_runs_total{outcome="ran"}')).toBe(1);
    expect(s.has('ridetrace_purge_records_total{kind="rides"}')).toBe(true);
    expect(value(s, 'ridetrace_purge_last_run_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(
      moved('ridetrace_http_requests_total{method="GET",route="/v1/cases/:id/exposures",status="200"}'),
    ).toBe(2);
    expect(moved('ridetrace_http_requests_total{method="POST",route="/v1/rides",status="201"}')).toBe(3);

    // Route labels are templates; nothing in the output names a person, a case, a ride or a code.
    const routes = new Set([...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]!));
    expect(routes).toContain('/v1/cases/:id/exposures.csv');
    for (const r of routes) expect(r).toMatch(/^(unmatched|\/[A-Za-z0-9/:._*-]*)$/);
    expect(text).not.toMatch(UUID);
    // Label values: names and codes, never a number that could be a phone or an id.
    for (const [, v] of text.matchAll(/="([^"]*)"/g)) expect(v).not.toMatch(/\d{5,}/);
    const secrets = [
      caseId,
      'C-METRICS-1',
      'positive PCR',
      ...ids,
      ...rideIds,
      ...people.flatMap((p) => [p.name, p.phone, p.user]),
      carrier.plate as string,
      code.url,
    ];
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});

describe('metrics of load shedding', () => {
  const t = useTestApp({
    SHED_MAX_IN_FLIGHT: '1',
    SHED_MAX_DB_WAITING: '0',
    SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
  });

  it('counts requests refused in front of Fastify', async () => {
    const listener = await listenMetrics(metricsOf(t.app.ctx), {
      host: '127.0.0.1',
      port: 0,
      token: undefined,
    });
    try {
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.server.address() as AddressInfo;
      // One request stays in flight: its body never ends.
      const held = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        // No hook answers before the body: the request waits for it.
        path: '/v1/auth/passenger',
        headers: { 'content-type': 'application/json', 'content-length': '100' },
      });
      held.on('error', () => undefined);
      held.write('{');
      const refused = await waitFor(
        () => fetch(`http://127.0.0.1:${port}/v1/passengers/me`),
        (r) => r.status === 503,
        5_000,
      );
      held.destroy();
      expect(refused.status).toBe(503);
      const text = await (await fetch(`${listener.url}/metrics`)).text();
      expect(series(text).get('ridetrace_shed_requests_total')).toBeGreaterThanOrEqual(1);
    } finally {
      await listener.close();
    }
  });
});

describe('the operations guide and the Grafana dashboard', () => {
  const t = useTestApp();

  it('name only metrics the server exports', async () => {
    const listener = await listenMetrics(metricsOf(t.app.ctx), {
      host: '127.0.0.1',
      port: 0,
      token: undefined,
    });
    const text = await (await fetch(`${listener.url}/metrics`)).text();
    await listener.close();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const named = (doc: string) =>
      new Set(
        [...doc.matchAll(/\b((?:ridetrace|process|nodejs)_[a-z0-9_]+[a-z0-9])/g)].map((m) =>
          m[1]!.replace(/_(bucket|count|sum)$/, ''),
        ),
      );
    const dashboard = readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const dash = JSON.parse(dashboard) as { panels: { targets?: { expr: string }[] }[] };
    expect(dash.panels.length).toBeGreaterThan(10);
    const exprs = dash.panels
      .flatMap((p) => p.targets ?? [])
      .map((x) => x.expr)
      .join('\n');
    expect([...named(exprs)].filter((n) => !exported.has(n))).toEqual([]);
    const guide = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const section = guide.slice(
      guide.indexOf('## Metrics and alerts'),
      guide.indexOf('\n## ', guide.indexOf('## Metrics and alerts') + 5),
    );
    expect([...named(section)].filter((n) => !exported.has(n))).toEqual([]);
  });
});

describe('metrics settings', () => {
  const env = { NODE_ENV: 'test', PORT: '3000' };

  it('refuse the public port and a weak token', () => {
    expect(() => loadConfig({ ...env, METRICS_PORT: '3000' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, METRICS_PORT: '9464', METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(loadConfig({ ...env, METRICS_PORT: '9464' }).metrics).toEqual({
      port: 9464,
      host: '127.0.0.1',
      token: undefined,
    });
    expect(loadConfig(env).metrics.port).toBe(0);
  });
});
