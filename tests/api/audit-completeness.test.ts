/**
 * Accountable officials: every route that returns other people's identity or movement data leaves exactly one audit
 * entry naming the actor. The OpenAPI description is walked against tests/support/audited-routes.ts: a new route
 * fails here until it is classified, and each audited route is called once and its entry checked.
 */
import { maskIdNumber, maskName, maskPhone } from '@ridetrace/shared';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAuditScene, HIDDEN_ROUTES, ROUTES, type AuditScene } from '../support/audited-routes.js';
import { expectError } from '../support/flows.js';
import { useTraceKit } from '../support/trace-kit.js';

// Four-eyes reveal (the production default), so requests wait for a decision.
const { t, w, k } = useTraceKit({ REVEAL_APPROVAL: 'dual' });
const TABLE = 'tests/support/audited-routes.ts';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

let scene: AuditScene;
beforeAll(async () => {
  scene = await buildAuditScene(t, w, k);
}, 120_000);

/** `METHOD /path/{param}` of every operation the OpenAPI description lists. */
async function documentedOperations(): Promise<string[]> {
  const doc = (await t.http().get('/docs/json').expect(200)).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => METHODS.includes(m))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );
}

/** `METHOD /path/{param}` of every route the app serves (Fastify's route tree), HEAD and OPTIONS aside. */
function servedRoutes(): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of t.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)[├└]── (.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    stack.length = m[1]!.length / 4;
    stack.push(m[2]!);
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of m[3]?.split(', ') ?? [])
      if (method !== 'HEAD' && method !== 'OPTIONS') routes.push(`${method} ${path}`);
  }
  return routes;
}

interface Row {
  seq: number;
  actor: string;
  action: string;
  case_id: string | null;
  people: number;
  request_id: string | null;
  detail: string | null;
}

/** Entries read from the table: reading them through GET /v1/audit would itself append one. */
async function entriesAfter(seq: number): Promise<Row[]> {
  return t.db.selectFrom('audit_log').selectAll().where('seq', '>', seq).orderBy('seq').execute();
}

async function lastSeq(): Promise<number> {
  const r = await sql<{ n: number }>`select coalesce(max(seq), 0)::int as n from audit_log`.execute(t.db);
  return r.rows[0]!.n;
}

describe('the route table', () => {
  it('classifies every operation of the OpenAPI description as audited or exempt', async () => {
    const ops = await documentedOperations();
    expect(ops.length).toBeGreaterThan(40);
    const unclassified = ops
      .filter((op) => !(op in ROUTES))
      .map((op) => `new route ${op}: classify it as audited or exempt in ${TABLE}`);
    expect(unclassified).toEqual([]);
    const stale = Object.keys(ROUTES)
      .filter((op) => !ops.includes(op))
      .map((op) => `${op} is in ${TABLE} but the OpenAPI description has no such operation`);
    expect(stale).toEqual([]);
    for (const [op, c] of Object.entries(ROUTES))
      if ('exempt' in c) expect(c.exempt.trim(), `${op}: say why it is exempt`).not.toBe('');
  });

  it('lets no route escape it by hiding from the OpenAPI description', async () => {
    const documented = new Set(await documentedOperations());
    const hidden = servedRoutes().filter((r) => !documented.has(r));
    expect(hidden.length).toBeGreaterThan(0);
    expect(
      hidden
        .filter((r) => !(r in HIDDEN_ROUTES))
        .map(
          (r) => `hidden route ${r}: document it (and classify it in ${TABLE}) or list it in HIDDEN_ROUTES`,
        ),
    ).toEqual([]);
  });
});

describe('each audited route leaves exactly one entry naming the actor', () => {
  const seenRequestIds = new Set<string>();

  for (const [op, c] of Object.entries(ROUTES)) {
    if (!('audited' in c)) continue;
    it(`${op} → ${c.audited.action}`, async () => {
      const prepared = (await c.audited.prepare?.(scene)) ?? {};
      const before = await lastSeq();
      for (const e of await entriesAfter(0)) if (e.request_id) seenRequestIds.add(e.request_id);
      const call = await c.audited.call(scene, prepared);
      const entries = await entriesAfter(before);
      expect(
        entries.map((e) => e.action),
        `${op}: exactly one new entry`,
      ).toEqual([c.audited.action]);
      const e = entries[0]!;
      const detail = JSON.parse(e.detail ?? 'null') as {
        by?: { kind: string; name: string; agency: string | null };
      } | null;
      expect({
        actor: e.actor,
        kind: detail?.by?.kind,
        name: detail?.by?.name,
        agency: detail?.by?.agency,
        caseId: e.case_id,
        people: e.people,
      }).toEqual({
        actor: call.by.id,
        kind: call.by.kind,
        name: call.by.name,
        agency: call.by.agency,
        caseId: call.caseId,
        people: call.people,
      });
      // The request that did it: the id the reply carries in X-Request-Id.
      expect(e.request_id).toMatch(UUID);
      expect(e.request_id).toBe(call.res.headers['x-request-id']);
      expect(seenRequestIds.has(e.request_id!), 'a request id no earlier entry holds').toBe(false);
      // Counts and parameters only: no name, phone or ID number of anyone in the scene, raw or masked.
      const secrets = scene.people.flatMap((p) => [
        p.name,
        p.phone,
        maskName(p.name),
        maskPhone(p.phone),
        ...(p.idNumber ? [p.idNumber, maskIdNumber(p.idNumber)] : []),
      ]);
      for (const secret of secrets)
        expect(e.detail ?? '', `${op} entry holds ${secret}`).not.toContain(secret);
    });
  }
});

describe('refused look-ups show nothing and leave no entry', () => {
  it('a forged or expired status token; a manual ride on a carrier the staff client is not bound to', async () => {
    const before = await lastSeq();
    const verify = (token: string) =>
      t.http().post('/v1/status/verify').set('authorization', w.tokens.staff).send({ token });
    expectError(await verify(`RTS1.${'A'.repeat(64)}`), 400, 'status_token_forged');
    const token = (
      await t
        .http()
        .post('/v1/passengers/me/status-token')
        .set('authorization', scene.subject.auth)
        .expect(200)
    ).body.token as string;
    t.clock.offsetMs = 10 * 60_000;
    try {
      expectError(await verify(token), 400, 'status_token_expired');
    } finally {
      t.clock.offsetMs = 0;
    }
    const rider = scene.contacts[0];
    expectError(
      await t
        .http()
        .post(`/v1/carriers/${scene.bus.id}/manual-rides`)
        .set('authorization', w.tokens.otherStaff)
        .send({ name: rider.name, phone: rider.phone }),
      403,
      'carrier_not_bound',
    );
    expect(await entriesAfter(before)).toEqual([]);
  });
});
