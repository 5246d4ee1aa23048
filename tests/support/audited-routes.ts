/**
 * Every operation of the OpenAPI description, classified: `audited` (it returns identity or movement data of people
 * other than the caller, or changes what officials may do, and must leave exactly one audit entry naming the actor)
 * or `exempt` with the reason. tests/api/audit-completeness.test.ts walks the description against this table and
 * makes each audited call once in `AuditScene`.
 */
import type { AuditAction, Case } from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { expect } from 'vitest';
import { enrolOfficial, signInOfficial } from './flows.js';
import { HOUR, MIN, newIdNumber, next, type Kit, type Person, type Vehicle } from './trace-kit.js';
import type { TestApp, World } from './test-app.js';

/**
 * Who an entry must name: the official person (kind person, their name and agency) or the client (kind system, its
 * name; a staff client's operator as its agency).
 */
export interface Actor {
  id: string;
  kind: 'person' | 'system';
  name: string;
  agency: string | null;
  auth: string;
}

/**
 * One bus, a case subject and two contacts riding it, the case open and notified; a second case to close; the
 * officials and the staff client that make the calls.
 */
export interface AuditScene {
  t: TestApp;
  w: World;
  k: Kit;
  bus: Vehicle;
  subject: Person;
  contacts: [Person, Person];
  /** Someone else, for opening a new case. */
  other: Person;
  caseId: string;
  /** Open, for POST /v1/cases/:id/close. */
  caseToClose: string;
  /** An official account for the account routes to disable and reset. */
  victimOfficialId: string;
  /** trace:read, trace:notify, audit:read, officials:admin (no reveal: exposures reads are `exposures.read`). */
  reader: Actor;
  /** case:write, status:clear, trace:reveal, reveal:approve (supervisor). */
  writer: Actor;
  /** Another supervisor, to decide the writer's reveal requests. */
  approver: Actor;
  staff: Actor;
  /** Every person of the scene: no audit entry may hold their names, phones or ID numbers. */
  people: Person[];
}

/** What an audited call returned and what its one entry must say. */
export interface AuditedCall {
  res: Response;
  by: Actor;
  people: number;
  caseId: string | null;
}

export interface AuditedRoute {
  action: AuditAction;
  /** Sets the stage before the entries are counted (its own entries do not count); its result goes to `call`. */
  prepare?: (s: AuditScene) => Promise<Record<string, string>>;
  /** One successful call of the route. */
  call: (s: AuditScene, prepared: Record<string, string>) => Promise<AuditedCall>;
}

export type RouteClass = { audited: AuditedRoute } | { exempt: string };

let counter = 0;

function newClient(s: AuditScene) {
  return s.t
    .http()
    .post('/v1/admin/clients')
    .set('authorization', s.reader.auth)
    .send({ name: `audit client ${++counter}`, role: 'official' });
}

async function officialPerson(t: TestApp, w: World, name: string, roles: string[]): Promise<Actor> {
  const e = await enrolOfficial(t, w.tokens.admin, roles, { name, agency: '深圳市卫生健康委员会' });
  const { accessToken } = await signInOfficial(t, e);
  return {
    id: e.official.id,
    kind: 'person',
    name,
    agency: '深圳市卫生健康委员会',
    auth: `Bearer ${accessToken}`,
  };
}

export async function buildAuditScene(t: TestApp, w: World, k: Kit): Promise<AuditScene> {
  const reader = await officialPerson(t, w, '审计读者', ['notifier', 'auditor', 'admin']);
  const writer = await officialPerson(t, w, '审计写者', ['supervisor']);
  const approver = await officialPerson(t, w, '审计批准者', ['supervisor']);
  const staff: Actor = {
    id: w.staff.clientId,
    kind: 'system',
    name: w.staff.name,
    agency: w.operatorId,
    auth: w.tokens.staff,
  };
  const bus = await k.vehicle('bus', { staff: true });
  // ID numbers too, so the entries are checked for them.
  const subject = await k.person({ idNumber: newIdNumber(next()) });
  const contacts: [Person, Person] = [await k.person({ idNumber: newIdNumber(next()) }), await k.person()];
  const other = await k.person();
  await k.ride(subject, bus, 0);
  await k.ride(contacts[0], bus, MIN);
  await k.ride(contacts[1], bus, 2 * MIN);
  const c = await k.openCase({ phone: subject.phone }, -HOUR, HOUR, writer.auth);
  await t.http().post(`/v1/cases/${c.id}/notify`).set('authorization', reader.auth).expect(200);
  const toClose = await k.openCase({ phone: other.phone }, -HOUR, HOUR, writer.auth);
  const victim = await enrolOfficial(t, w.tokens.admin, ['tracer']);
  return {
    t,
    w,
    k,
    bus,
    subject,
    contacts,
    other,
    caseId: c.id,
    caseToClose: toClose.id,
    victimOfficialId: victim.official.id,
    reader,
    writer,
    approver,
    staff,
    people: [subject, ...contacts, other],
  };
}

/** A successful reply, or the test fails showing the body. */
function ok(res: Response, status = 200): Response {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res;
}

/** A new case with a pending reveal request of the writer (REVEAL_APPROVAL=dual). */
async function pendingReveal(s: AuditScene): Promise<Record<string, string>> {
  const c = await s.k.openCase({ phone: s.other.phone }, -HOUR, HOUR, s.writer.auth);
  const r = ok(
    await s.t
      .http()
      .post(`/v1/cases/${c.id}/reveal-requests`)
      .set('authorization', s.writer.auth)
      .send({ reason: 'contacts unreachable by app message' }),
    201,
  );
  expect(r.body.state).toBe('pending');
  return { caseId: c.id, requestId: r.body.id as string };
}

/** People a case shows: its subject (as one person) and each unverified claim. */
const peopleOfCase = (c: Case) => (c.subject.passengers > 0 ? 1 : 0) + c.unverifiedClaims.length;

const PASSENGER_OWN = "the passenger's own data (passenger scope)";

export const ROUTES: Record<string, RouteClass> = {
  'GET /health': { exempt: 'liveness: no personal data' },
  'GET /ready': { exempt: 'readiness: no personal data' },

  // Sign-in and tokens: the caller's own credentials.
  'POST /v1/auth/passenger': { exempt: "the passenger's own token and registration state" },
  'POST /v1/auth/token': { exempt: "a token for the client's own credentials: no personal data" },
  'POST /v1/auth/official': { exempt: "the official's own sign-in" },
  'POST /v1/auth/official/refresh': { exempt: "the official's own sign-in" },
  'POST /v1/auth/official/session': { exempt: "the official's own sign-in (console cookies)" },
  'POST /v1/auth/official/session/refresh': { exempt: "the official's own sign-in (console cookies)" },
  'POST /v1/auth/official/logout': { exempt: "ends the official's own sign-in; returns nothing" },
  'GET /v1/officials/me': { exempt: "the signed-in official's own account" },

  // Official accounts: the programme's own officials, no passenger identity or movement data; changes are audited.
  'GET /v1/admin/officials': {
    exempt: "official accounts (the programme's officials): no passenger identity or movement data",
  },
  'POST /v1/admin/officials': {
    audited: {
      action: 'officials.admin',
      call: async (s) => ({
        res: ok(
          await s.t
            .http()
            .post('/v1/admin/officials')
            .set('authorization', s.reader.auth)
            .send({
              username: `audit-new-${++counter}`,
              name: '新官员',
              agency: '卫健委',
              roles: ['tracer'],
            }),
          201,
        ),
        by: s.reader,
        people: 0,
        caseId: null,
      }),
    },
  },
  'POST /v1/admin/officials/{id}/disable': {
    audited: {
      action: 'officials.admin',
      call: async (s) => ({
        res: ok(
          await s.t
            .http()
            .post(`/v1/admin/officials/${s.victimOfficialId}/disable`)
            .set('authorization', s.reader.auth),
        ),
        by: s.reader,
        people: 0,
        caseId: null,
      }),
    },
  },
  'POST /v1/admin/officials/{id}/reset': {
    audited: {
      action: 'officials.admin',
      call: async (s) => ({
        res: ok(
          await s.t
            .http()
            .post(`/v1/admin/officials/${s.victimOfficialId}/reset`)
            .set('authorization', s.reader.auth),
        ),
        by: s.reader,
        people: 0,
        caseId: null,
      }),
    },
  },

  // Operators and integration clients: companies and machine accounts.
  // Reads hold no personal data; changes to who may call the API are audited all the same.
  'POST /v1/admin/operators': {
    audited: {
      action: 'operators.admin',
      call: async (s) => ({
        res: ok(
          await s.t
            .http()
            .post('/v1/admin/operators')
            .set('authorization', s.reader.auth)
            .send({ id: `audit-op-${++counter}`, name: '审计公司' }),
          201,
        ),
        by: s.reader,
        people: 0,
        caseId: null,
      }),
    },
  },
  'GET /v1/admin/operators': { exempt: 'transport companies: no personal data' },
  'POST /v1/admin/clients': {
    audited: {
      action: 'clients.admin',
      call: async (s) => ({
        res: ok(await newClient(s), 201),
        by: s.reader,
        people: 0,
        caseId: null,
      }),
    },
  },
  'GET /v1/admin/clients': { exempt: 'integration clients (machine accounts): no passenger data' },
  'POST /v1/admin/clients/{clientId}/disable': {
    audited: {
      action: 'clients.admin',
      prepare: async (s) => ({ clientId: ok(await newClient(s), 201).body.clientId as string }),
      call: async (s, p) => ({
        res: ok(
          await s.t
            .http()
            .post(`/v1/admin/clients/${p.clientId}/disable`)
            .set('authorization', s.reader.auth),
          200,
        ),
        by: s.reader,
        people: 0,
        caseId: null,
      }),
    },
  },
  'POST /v1/admin/clients/{clientId}/secret': {
    audited: {
      action: 'clients.admin',
      prepare: async (s) => ({ clientId: ok(await newClient(s), 201).body.clientId as string }),
      call: async (s, p) => ({
        res: ok(
          await s.t.http().post(`/v1/admin/clients/${p.clientId}/secret`).set('authorization', s.reader.auth),
          200,
        ),
        by: s.reader,
        people: 0,
        caseId: null,
      }),
    },
  },

  // Carriers, codes and staff bindings: vehicles and machine accounts.
  'POST /v1/carriers': { exempt: 'a vehicle: no personal data' },
  'GET /v1/carriers': { exempt: 'vehicles: no personal data' },
  'GET /v1/carriers/{id}': { exempt: 'a vehicle: no personal data' },
  'PATCH /v1/carriers/{id}': { exempt: 'a vehicle: no personal data' },
  'POST /v1/carriers/{id}/retire': { exempt: 'a vehicle: no personal data' },
  'POST /v1/carriers/{id}/code': { exempt: "a vehicle's code: no personal data" },
  'GET /v1/carriers/{id}/code': { exempt: "a vehicle's code: no personal data" },
  'GET /v1/carriers/{id}/code.svg': { exempt: "a vehicle's code: no personal data" },
  'GET /v1/carriers/{id}/code.png': { exempt: "a vehicle's code: no personal data" },
  'GET /v1/carriers/{id}/poster.pdf': { exempt: "a vehicle's poster: no personal data" },
  'GET /v1/carriers/posters.pdf': { exempt: "vehicles' posters: no personal data" },
  'POST /v1/carriers/import': { exempt: 'vehicles of a fleet: no personal data' },
  'GET /v1/staff-accounts': { exempt: "an operator's staff devices (machine accounts): no passenger data" },
  'GET /v1/carriers/{id}/staff': { exempt: 'staff client ids of a vehicle: no passenger data' },
  'POST /v1/carriers/{id}/staff': { exempt: 'staff client ids of a vehicle: no passenger data' },
  'DELETE /v1/carriers/{id}/staff/{clientId}': { exempt: 'staff client ids of a vehicle: no passenger data' },
  'GET /v1/staff/me/carriers': { exempt: "the staff client's own vehicles: no personal data" },

  // Staff look-ups of other people.
  'POST /v1/carriers/{id}/manual-rides': {
    audited: {
      action: 'passenger.lookup',
      call: async (s) => {
        const [rider] = s.contacts;
        const res = ok(
          await s.t
            .http()
            .post(`/v1/carriers/${s.bus.id}/manual-rides`)
            .set('authorization', s.staff.auth)
            .send({
              name: rider.name,
              phone: rider.phone,
              idNumber: rider.idNumber,
              clientRideId: randomUUID(),
            }),
          201,
        );
        expect(res.body.rider.matched).toBe(true);
        return { res, by: s.staff, people: 1, caseId: null };
      },
    },
  },
  'POST /v1/status/verify': {
    audited: {
      action: 'status.verify',
      call: async (s) => {
        const token = ok(
          await s.t.http().post('/v1/passengers/me/status-token').set('authorization', s.contacts[1].auth),
        ).body.token as string;
        const res = ok(
          await s.t.http().post('/v1/status/verify').set('authorization', s.staff.auth).send({ token }),
        );
        return { res, by: s.staff, people: 1, caseId: null };
      },
    },
  },

  // The passenger's own data.
  'POST /v1/rides': { exempt: `${PASSENGER_OWN}; the hot path writes no audit entry per scan` },
  'POST /v1/passengers/me/confirm': { exempt: PASSENGER_OWN },
  'GET /v1/passengers/me/rides': { exempt: PASSENGER_OWN },
  'GET /v1/consent': { exempt: 'the public consent text' },
  'GET /v1/passengers/me': { exempt: PASSENGER_OWN },
  'DELETE /v1/passengers/me': { exempt: PASSENGER_OWN },
  'POST /v1/passengers/me/phone': { exempt: PASSENGER_OWN },
  'POST /v1/passengers/me/phone/otp': { exempt: PASSENGER_OWN },
  'POST /v1/passengers/me/phone/verify': { exempt: PASSENGER_OWN },
  'POST /v1/passengers/me/subscriptions': { exempt: PASSENGER_OWN },
  'GET /v1/passengers/me/notifications': { exempt: PASSENGER_OWN },
  'POST /v1/delivery-receipts/{channel}': {
    exempt:
      "a gateway's reports on messages it was given: no official acts, nothing about people is returned, and the " +
      'delivery state it changes is what GET /v1/cases/{id}/notifications (audited) shows',
  },
  'GET /v1/passengers/me/status': { exempt: PASSENGER_OWN },
  'POST /v1/passengers/me/status-token': { exempt: PASSENGER_OWN },
  'GET /v1/passengers/me/itinerary': { exempt: PASSENGER_OWN },
  'GET /v1/passengers/me/export': { exempt: PASSENGER_OWN },
  'GET /v1/passengers/me/access-log': { exempt: PASSENGER_OWN },

  // Cases and tracing.
  'POST /v1/cases': {
    audited: {
      action: 'case.open',
      call: async (s) => {
        const res = ok(await s.k.createCase({ phone: s.other.phone }, -HOUR, HOUR, s.writer.auth), 201);
        return { res, by: s.writer, people: 1, caseId: res.body.id as string };
      },
    },
  },
  'GET /v1/cases': {
    audited: {
      action: 'case.list',
      call: async (s) => {
        const res = ok(await s.t.http().get('/v1/cases?status=open').set('authorization', s.reader.auth));
        const items = res.body.items as Case[];
        expect(items.length).toBeGreaterThanOrEqual(2);
        return { res, by: s.reader, people: items.reduce((n, c) => n + peopleOfCase(c), 0), caseId: null };
      },
    },
  },
  'GET /v1/cases/{id}': {
    audited: {
      action: 'case.read',
      call: async (s) => ({
        res: ok(await s.t.http().get(`/v1/cases/${s.caseId}`).set('authorization', s.reader.auth)),
        by: s.reader,
        people: 1,
        caseId: s.caseId,
      }),
    },
  },
  'GET /v1/cases/{id}/rides': {
    audited: {
      action: 'case.rides',
      call: async (s) => {
        const res = ok(
          await s.t.http().get(`/v1/cases/${s.caseId}/rides`).set('authorization', s.reader.auth),
        );
        expect(res.body.items).toHaveLength(1);
        return { res, by: s.reader, people: 1, caseId: s.caseId };
      },
    },
  },
  'POST /v1/cases/{id}/close': {
    audited: {
      action: 'case.close',
      call: async (s) => ({
        res: ok(
          await s.t
            .http()
            .post(`/v1/cases/${s.caseToClose}/close`)
            .set('authorization', s.writer.auth)
            .send({ reason: 'recovered' }),
        ),
        by: s.writer,
        people: 1,
        caseId: s.caseToClose,
      }),
    },
  },
  'GET /v1/cases/{id}/exposures': {
    audited: {
      action: 'exposures.read',
      call: async (s) => {
        const res = ok(
          await s.t.http().get(`/v1/cases/${s.caseId}/exposures`).set('authorization', s.reader.auth),
        );
        expect(res.body.items).toHaveLength(2);
        return { res, by: s.reader, people: 2, caseId: s.caseId };
      },
    },
  },
  'GET /v1/cases/{id}/exposures.csv': {
    audited: {
      action: 'exposures.export',
      call: async (s) => ({
        res: ok(
          await s.t
            .http()
            .get(`/v1/cases/${s.caseId}/exposures.csv`)
            .set('authorization', s.reader.auth)
            .buffer(true),
        ),
        by: s.reader,
        people: 2,
        caseId: s.caseId,
      }),
    },
  },
  'POST /v1/cases/{id}/notify': {
    audited: {
      action: 'case.notify',
      call: async (s) => ({
        res: ok(await s.t.http().post(`/v1/cases/${s.caseId}/notify`).set('authorization', s.reader.auth)),
        by: s.reader,
        people: 2,
        caseId: s.caseId,
      }),
    },
  },
  'GET /v1/cases/{id}/notifications': {
    audited: {
      action: 'notifications.read',
      call: async (s) => {
        const res = ok(
          await s.t.http().get(`/v1/cases/${s.caseId}/notifications`).set('authorization', s.reader.auth),
        );
        expect(res.body.items).toHaveLength(2);
        return { res, by: s.reader, people: 2, caseId: s.caseId };
      },
    },
  },
  'POST /v1/status/clear': {
    audited: {
      action: 'person.clear',
      call: async (s) => ({
        res: ok(
          await s.t
            .http()
            .post('/v1/status/clear')
            .set('authorization', s.writer.auth)
            .send({ personId: s.contacts[0].id, caseId: s.caseId, reason: 'negative test' }),
        ),
        by: s.writer,
        people: 1,
        caseId: s.caseId,
      }),
    },
  },

  // Four-eyes reveal: requests and decisions change who may see identities; the requests name officials only.
  'POST /v1/cases/{id}/reveal-requests': {
    audited: {
      action: 'reveal.request',
      call: async (s) => ({
        res: ok(
          await s.t
            .http()
            .post(`/v1/cases/${s.caseId}/reveal-requests`)
            .set('authorization', s.writer.auth)
            .send({ reason: 'contacts unreachable by app message' }),
          201,
        ),
        by: s.writer,
        people: 0,
        caseId: s.caseId,
      }),
    },
  },
  'GET /v1/reveal-requests': {
    exempt:
      'reveal requests: case numbers, reasons and the officials involved; no passenger identity or movement',
  },
  'GET /v1/reveal-requests/{id}': {
    exempt:
      'a reveal request: case number, reason and the officials involved; no passenger identity or movement',
  },
  'POST /v1/reveal-requests/{id}/approve': {
    audited: {
      action: 'reveal.approve',
      prepare: (s) => pendingReveal(s),
      call: async (s, p) => ({
        res: ok(
          await s.t
            .http()
            .post(`/v1/reveal-requests/${p.requestId}/approve`)
            .set('authorization', s.approver.auth)
            .send({}),
        ),
        by: s.approver,
        people: 0,
        caseId: p.caseId!,
      }),
    },
  },
  'POST /v1/reveal-requests/{id}/refuse': {
    audited: {
      action: 'reveal.refuse',
      prepare: (s) => pendingReveal(s),
      call: async (s, p) => ({
        res: ok(
          await s.t
            .http()
            .post(`/v1/reveal-requests/${p.requestId}/refuse`)
            .set('authorization', s.approver.auth)
            .send({ note: 'not needed' }),
        ),
        by: s.approver,
        people: 0,
        caseId: p.caseId!,
      }),
    },
  },

  'GET /v1/audit': {
    audited: {
      action: 'audit.read',
      call: async (s) => ({
        res: ok(await s.t.http().get('/v1/audit?limit=5').set('authorization', s.reader.auth)),
        by: s.reader,
        people: 0,
        caseId: null,
      }),
    },
  },
  'GET /v1/audit/verify': {
    audited: {
      action: 'audit.verify',
      call: async (s) => {
        const res = ok(await s.t.http().get('/v1/audit/verify').set('authorization', s.reader.auth));
        expect(res.body).toMatchObject({ ok: true, firstBroken: null });
        return { res, by: s.reader, people: 0, caseId: null };
      },
    },
  },
};

/**
 * Routes the app serves but the OpenAPI description hides (`hide: true`), each with why it needs no audit: a hidden
 * route must not escape the table above.
 */
export const HIDDEN_ROUTES: Record<string, string> = {
  'GET /c/{token}': 'the landing page of a poster scanned with a camera app: static text',
  'GET /C/{token}': 'the landing page of a poster scanned with a camera app: static text',
  'GET /docs': 'the API description',
  'GET /docs/': 'the API description',
  'GET /docs/json': 'the API description',
  'GET /docs/yaml': 'the API description',
  'GET /docs/static/index.html': 'the API description',
  'GET /docs/static/swagger-initializer.js': 'the API description',
  'GET /docs/*': 'the API description',
  // Served only when the console is built (console/dist or CONSOLE_DIR).
  'GET /console': "the console's static files: no data",
  'GET /console*': "the console's static files: no data",
};
