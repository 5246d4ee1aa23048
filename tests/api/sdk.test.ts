import { createClient } from '@ridetrace/server';
import { RideTraceClient, RideTraceError } from '@ridetrace/sdk';
import type { CarrierCode, ClientWithSecret } from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/fixtures.js';

const DAY = 86_400_000;

// Not a load test: no load shedding while parallel test files share the CPU.
const t = useTestApp({ NOTIFY_WORKER: 'off', SHED_MAX_EVENT_LOOP_DELAY_MS: '0' });
let baseUrl: string;
let admin: RideTraceClient;
let operator: RideTraceClient;
let official: RideTraceClient;
let operatorClient: ClientWithSecret;
let officialClient: ClientWithSecret;
let carrierId: number;
let code: CarrierCode;
let subjectId: string;

/** Resolves with the RideTraceError the call threw (fails when it did not throw one). */
async function sdkError(p: Promise<unknown>): Promise<RideTraceError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RideTraceError);
    return err as RideTraceError;
  }
  throw new Error('expected a RideTraceError');
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}/`; // trailing slash on purpose: the SDK trims it
  const root = await createClient(t.db, { name: 'root', role: 'admin' });
  admin = new RideTraceClient({ baseUrl });
  await admin.loginClient(root.clientId, root.clientSecret);
});

describe('SDK against a listening app', () => {
  it('admin creates an operator and clients', async () => {
    const op = await admin.createOperator('sdk-bus', 'SDK Bus Co.');
    expect(op).toMatchObject({ id: 'sdk-bus', name: 'SDK Bus Co.' });
    operatorClient = await admin.createClient({ name: 'sdk ops', role: 'operator', operatorId: 'sdk-bus' });
    expect(operatorClient).toMatchObject({
      role: 'operator',
      operatorId: 'sdk-bus',
      scopes: ['carriers:write'],
    });
    expect(operatorClient.clientSecret).toEqual(expect.any(String));
    officialClient = await admin.createClient({ name: 'sdk health office', role: 'official' });
    expect(officialClient.scopes).toEqual([
      'case:write',
      'trace:read',
      'trace:reveal',
      'trace:notify',
      'status:clear',
    ]);
  });

  it('operator creates a carrier and reads its code', async () => {
    operator = new RideTraceClient({ baseUrl });
    const tok = await operator.loginClient(operatorClient.clientId, operatorClient.clientSecret);
    expect(tok).toMatchObject({ tokenType: 'Bearer', scope: 'carriers:write' });
    expect(operator.accessToken).toBe(tok.accessToken);
    const carrier = await operator.createCarrier({
      kind: 'bus',
      plate: '粤B00001',
      route: '36路',
      city: '深圳',
    });
    expect(carrier).toMatchObject({ kind: 'bus', plate: '粤B00001' });
    carrierId = carrier.id;
    code = await operator.currentCode(carrierId);
    expect(code).toMatchObject({ carrierId, generation: expect.any(Number) });
    expect(code.url).toContain(code.token);
    expect(await operator.getCarrier(carrierId)).toMatchObject({ id: carrierId });
  });

  it('passenger: login → scan (202) → confirm → scan (201) → myRides', async () => {
    const p = new RideTraceClient({ baseUrl });
    const login = await p.loginPassenger('ok:sdk-alice');
    expect(login.passenger.confirmed).toBe(false);
    const first = await p.scan({ code: code.url, clientRideId: randomUUID() });
    expect(first.status).toBe(202);
    if (first.status !== 202) throw new Error('unreachable');
    expect(first.result).toBe('confirmation_required');
    expect(first.preview.carrier).toMatchObject({ id: carrierId, plate: '粤B00001' });
    const consentVersion = first.preview.consentVersion;
    const confirmed = await p.confirm({ name: '王小明', phone: '13900000041', consentVersion });
    expect(confirmed.passenger.confirmed).toBe(true);
    subjectId = confirmed.passenger.id;
    expect(confirmed.ride).toMatchObject({ carrier: { id: carrierId } });
    expect(p.accessToken).toBe(confirmed.accessToken);
    // A rescan at once is the same ride (repeat scan); an offline scan from earlier is a ride of its own.
    const rescan = await p.scan({ code: code.url, clientRideId: randomUUID() });
    expect(rescan).toMatchObject({ status: 200, repeat: true, ride: { id: confirmed.ride!.id } });
    const scannedAt = new Date(Date.now() - 30 * 60_000).toISOString();
    const second = await p.scan({ code: code.url, clientRideId: randomUUID(), scannedAt });
    expect(second.status).toBe(201);
    if (second.status === 202) throw new Error('unreachable');
    expect(second.result).toBe('registered');
    const mine = await p.myRides();
    expect(mine.items).toHaveLength(2);
    expect(mine.items.map((r) => r.id)).toContain(second.ride.id);
    expect(await p.me()).toMatchObject({ confirmed: true, phone: '139****0041' });

    // A co-passenger for the trace below.
    const bob = new RideTraceClient({ baseUrl });
    await bob.loginPassenger('ok:sdk-bob');
    await bob.confirm({ name: '李四', phone: '13900000042', consentVersion });
    expect((await bob.scan({ code: code.url, clientRideId: randomUUID() })).status).toBe(201);
  });

  it('official: openCase → requestReveal → allExposures → exposuresCsv → notify', async () => {
    official = new RideTraceClient({ baseUrl });
    await official.loginClient(officialClient.clientId, officialClient.clientSecret);
    const now = Date.now();
    const c = await official.openCase({
      // A typed phone names no case subject (only verified ones do): the official picks the registration.
      subject: { passengerId: subjectId },
      infectiousFrom: new Date(now - DAY).toISOString(),
      infectiousTo: new Date(now).toISOString(),
      caseNumber: 'SDK-1',
      reason: 'sdk test',
    });
    expect(c).toMatchObject({ status: 'open', caseNumber: 'SDK-1', subject: { name: '王*明' } });
    // Unmasking needs a grant (self-granted here: REVEAL_APPROVAL=single) and asking for it per read.
    const grant = await official.requestReveal(c.id, 'sdk test: call the contacts');
    expect(grant).toMatchObject({ caseId: c.id, state: 'approved', selfGranted: true });
    expect((await official.revealRequests({ caseId: c.id })).items.map((r) => r.id)).toEqual([grant.id]);
    expect((await official.getCase(c.id, { reveal: true })).subject.name).toBe('王小明');
    expect((await official.allExposures(c.id))[0]!.name).toBe('李*');
    const exposures = await official.allExposures(c.id, 1, { reveal: true });
    expect(exposures).toHaveLength(1);
    expect(exposures[0]).toMatchObject({ name: '李四', phone: '13900000042', level: 'close', degree: 1 });
    const csv = await official.exposuresCsv(c.id, 1, { reveal: true });
    expect(csv.replace(/^\uFEFF/, '').split('\r\n')[0]).toMatch(/^person_id,name,phone,/);
    expect(csv).toContain('李四');
    expect(csv).toContain('13900000042');
    const n = await official.notify(c.id);
    expect(n).toMatchObject({ caseId: c.id, exposed: 1, queued: 1, alreadyQueued: 0 });
    expect((await official.notify(c.id)).queued).toBe(0);
    const audit = await admin.audit({ caseId: c.id });
    expect(audit.items.map((e) => e.action)).toEqual([
      'case.open',
      'reveal.grant',
      'case.read',
      'exposures.read',
      'exposures.reveal',
      'exposures.export',
      'case.notify',
      'case.notify',
    ]);
  });

  it('exposuresCsv returns the CSV as the API sends it (UTF-8 BOM kept, for Excel)', async () => {
    const { items } = await official.listCases();
    const id = items[0]!.id;
    const api = await t
      .http()
      .get(`/v1/cases/${id}/exposures.csv`)
      .set('authorization', `Bearer ${official.accessToken!}`);
    expect(api.text.startsWith('\uFEFF')).toBe(true);
    const csv = await official.exposuresCsv(id);
    expect(csv).toBe(api.text);
  });

  it('errors are RideTraceError with the shared code and status', async () => {
    const p = new RideTraceClient({ baseUrl });
    await p.loginPassenger('ok:sdk-alice');
    const i = 12;
    const forgedToken =
      code.token.slice(0, i) + (code.token[i] === 'A' ? 'B' : 'A') + code.token.slice(i + 1);
    const forged = await sdkError(
      p.scan({ code: code.url.replace(code.token, forgedToken), clientRideId: randomUUID() }),
    );
    expect({ status: forged.status, code: forged.code }).toEqual({ status: 400, code: 'code_forged' });
    expect(forged.message).toEqual(expect.any(String));

    const unknown = await sdkError(
      official.openCase({
        subject: { phone: '13900000049' },
        infectiousFrom: new Date(Date.now() - DAY).toISOString(),
        infectiousTo: new Date().toISOString(),
        caseNumber: 'SDK-2',
        reason: 'nobody',
      }),
    );
    expect({ status: unknown.status, code: unknown.code }).toEqual({
      status: 404,
      code: 'case_subject_unknown',
    });

    const anonymous = new RideTraceClient({ baseUrl });
    const noToken = await sdkError(anonymous.listCarriers());
    expect({ status: noToken.status, code: noToken.code }).toEqual({ status: 401, code: 'auth_required' });

    const asPassenger = await sdkError(p.listCases());
    expect({ status: asPassenger.status, code: asPassenger.code }).toEqual({
      status: 403,
      code: 'forbidden',
    });
    const opOnCases = await sdkError(operator.getCase(randomUUID()));
    expect(opOnCases.code).toBe('forbidden');

    const badLogin = await sdkError(anonymous.loginClient(officialClient.clientId, 'wrong-secret'));
    expect({ status: badLogin.status, code: badLogin.code }).toEqual({ status: 401, code: 'invalid_client' });
    expect(anonymous.accessToken).toBeUndefined();
  });

  it('allCarriers iterates every page', async () => {
    for (let i = 2; i <= 7; i++) {
      await operator.createCarrier({ kind: 'taxi', plate: `粤B0000${i}`, city: '深圳' });
    }
    let requests = 0;
    const counting = new RideTraceClient({
      baseUrl,
      token: operator.accessToken!,
      fetch: (input, init) => {
        requests++;
        return fetch(input, init);
      },
    });
    const all: number[] = [];
    for await (const c of counting.allCarriers({ limit: 2 })) all.push(c.id);
    expect(all).toHaveLength(7);
    expect(new Set(all).size).toBe(7);
    expect(all).toContain(carrierId);
    expect(requests).toBe(4);
    const taxis: string[] = [];
    for await (const c of counting.allCarriers({ kind: 'taxi', limit: 4 })) taxis.push(c.plate);
    expect(taxis).toHaveLength(6);
  });

  it('consent: the current text and version, without a token', async () => {
    const c = await new RideTraceClient({ baseUrl }).consent();
    expect(c.version).toBe(t.app.ctx.config.consentVersion);
  });

  it('a network error (closed port) → RideTraceError network_error', async () => {
    const port = await closedPort();
    const down = new RideTraceClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    const err = await sdkError(down.loginPassenger('ok:sdk-alice'));
    expect({ status: err.status, code: err.code }).toEqual({ status: 0, code: 'network_error' });
    expect(err.name).toBe('RideTraceError');
  });
});

describe('SDK retries a request shed with 503 overloaded', () => {
  /** A server answering each request with the next scripted reply; it records the requests it got. */
  async function scripted(replies: { status: number; code?: string; retryAfter?: string }[]) {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const r = replies[Math.min(seen.length - 1, replies.length - 1)]!;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (r.retryAfter !== undefined) headers['retry-after'] = r.retryAfter;
      res.writeHead(r.status, headers);
      res.end(
        JSON.stringify(
          r.code
            ? { error: { code: r.code, message: r.code } }
            : { status: 'ok', database: 'up', version: 'x' },
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(r)) };
  }

  it('after its Retry-After delay, up to overloadRetries times; then the error', async () => {
    const s = await scripted([
      { status: 503, code: 'overloaded', retryAfter: '0' },
      { status: 503, code: 'overloaded', retryAfter: '0' },
      { status: 200 },
    ]);
    await expect(new RideTraceClient({ baseUrl: s.url }).myStatus()).resolves.toMatchObject({ status: 'ok' });
    expect(s.seen).toEqual([
      'GET /v1/passengers/me/status',
      'GET /v1/passengers/me/status',
      'GET /v1/passengers/me/status',
    ]);
    const none = await scripted([{ status: 503, code: 'overloaded', retryAfter: '0' }]);
    const err = await sdkError(new RideTraceClient({ baseUrl: none.url, overloadRetries: 1 }).myStatus());
    expect({ status: err.status, code: err.code, retryAfterMs: err.retryAfterMs }).toEqual({
      status: 503,
      code: 'overloaded',
      retryAfterMs: 0,
    });
    expect(none.seen).toHaveLength(2);
    await Promise.all([s.close(), none.close()]);
  });

  it('never another 503 (the write may have happened), nor a Retry-After beyond maxRetryAfterMs', async () => {
    const down = await scripted([{ status: 503, code: 'service_unavailable', retryAfter: '0' }]);
    expect((await sdkError(new RideTraceClient({ baseUrl: down.url }).myStatus())).code).toBe(
      'service_unavailable',
    );
    expect(down.seen).toHaveLength(1);
    const long = await scripted([{ status: 503, code: 'overloaded', retryAfter: '30' }]);
    const err = await sdkError(new RideTraceClient({ baseUrl: long.url }).myStatus());
    expect({ code: err.code, retryAfterMs: err.retryAfterMs }).toEqual({
      code: 'overloaded',
      retryAfterMs: 30_000,
    });
    expect(long.seen).toHaveLength(1);
    await Promise.all([down.close(), long.close()]);
  });
});
