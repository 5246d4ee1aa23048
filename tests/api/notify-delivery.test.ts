import {
  AccessTokenCache,
  bulk,
  type Db,
  HttpMessageSender,
  HttpSmsSender,
  kickNotifier,
  localTime,
} from '@ridetrace/server';
import { claimDue } from '@ridetrace/server/testing';
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSuperApp, type FakeSuperApp } from '../support/fake-super-app.js';
import { useNotifyWorld } from '../support/fixtures.js';
import { confirmedPassenger, createCarrier, createTestDatabase } from '../support/test-app.js';
import { deliveryFailure, SAMPLE_EXPOSURE } from '../support/delivery.js';

const MSG = SAMPLE_EXPOSURE;

describe('localTime (one cached formatter per time zone)', () => {
  it('gives each time zone its own local time, however calls interleave', () => {
    const d = new Date('2026-07-01T23:30:00Z');
    for (let i = 0; i < 3; i++) {
      expect(localTime(d, 'Asia/Shanghai')).toEqual({ minute: '2026-07-02 07:30', date: '2026-07-02' });
      expect(localTime(d, 'America/New_York')).toEqual({ minute: '2026-07-01 19:30', date: '2026-07-01' });
      // Winter: New York is UTC−5, not −4.
      expect(localTime(new Date('2026-12-01T03:05:00Z'), 'America/New_York')).toEqual({
        minute: '2026-11-30 22:05',
        date: '2026-11-30',
      });
    }
  });
});

/** A gateway on 127.0.0.1 answering what `answer` says; counts TCP connections to show keep-alive. */
async function startGateway(answer: () => [number, unknown] | null) {
  const state = { connections: 0, requests: [] as { path: string; body: unknown }[] };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      state.requests.push({ path: req.url ?? '', body: JSON.parse(raw || 'null') as unknown });
      const a = answer();
      if (!a) return; // never answers: the sender's timeout must end the call
      res.writeHead(a[0], { 'content-type': 'application/json' }).end(JSON.stringify(a[1]));
    });
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    state,
    baseUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('HttpSmsSender over a keep-alive pool', () => {
  let status = 200;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let sms: HttpSmsSender;

  beforeAll(async () => {
    gw = await startGateway(() => [status, { ok: status < 300 }]);
    // A path prefix in the base URL is kept.
    sms = new HttpSmsSender({
      baseUrl: `${gw.baseUrl}/gw`,
      apiKey: 'k1',
      timeoutMs: 2000,
      timeZone: 'Asia/Shanghai',
    });
  });
  afterAll(async () => {
    await sms?.close();
    await gw?.close();
  });

  it('sends the same request as before, and reuses one connection for sequential sends', async () => {
    status = 200;
    const before = gw.state.connections;
    for (let i = 0; i < 100; i++) await sms.send('13800000000', MSG);
    // One, or two when the second request comes before the pool has seen the first one finish.
    expect(gw.state.connections - before).toBeLessThanOrEqual(2);
    expect(gw.state.requests.at(-1)).toEqual({
      path: '/gw/sms/send',
      body: {
        phone: '13800000000',
        template: 'ridetrace_exposure',
        params: { time: '2026-11-21 08:30', vehicle: '粤B12345', until: '2026-12-05' },
      },
    });
  });

  it('5xx and 429 are retryable, other 4xx are not; the connection survives every answer', async () => {
    const before = gw.state.connections;
    const cases: [number, boolean][] = [
      [500, true],
      [503, true],
      [429, true],
      [400, false],
      [404, false],
    ];
    for (const [s, retryable] of cases) {
      status = s;
      expect(await deliveryFailure(sms.send('13800000000', MSG))).toEqual({
        message: `SMS gateway status ${s}`,
        retryable,
      });
    }
    status = 200;
    await sms.send('13800000000', MSG);
    expect(gw.state.connections - before).toBeLessThanOrEqual(1);
  });

  it('a gateway that does not answer in time is a retryable timeout', async () => {
    const g = await startGateway(() => null);
    const hanging = new HttpSmsSender({ baseUrl: g.baseUrl, apiKey: 'k1', timeoutMs: 200, timeZone: 'UTC' });
    const started = Date.now();
    expect(await deliveryFailure(hanging.send('13800000000', MSG))).toEqual({
      message: 'network: TimeoutError',
      retryable: true,
    });
    expect(Date.now() - started).toBeLessThan(2000);
    await hanging.close();
    await g.close();
  });

  it('a closed port is a retryable network error', async () => {
    const g = await startGateway(() => [200, {}]);
    await g.close();
    const dead = new HttpSmsSender({ baseUrl: g.baseUrl, apiKey: 'k1', timeoutMs: 1000, timeZone: 'UTC' });
    expect(await deliveryFailure(dead.send('13800000000', MSG))).toEqual({
      message: 'network: ECONNREFUSED',
      retryable: true,
    });
    await dead.close();
  });

  it('close() drops the connections; the next send opens a new one', async () => {
    status = 200;
    await sms.send('13800000000', MSG);
    const before = gw.state.connections;
    await sms.close();
    await sms.send('13800000000', MSG);
    expect(gw.state.connections - before).toBe(1);
  });
});

describe('HttpMessageSender over a keep-alive pool', () => {
  let answer: [number, unknown] = [200, { errcode: 0 }];
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let superApp: FakeSuperApp;
  let app: HttpMessageSender;

  beforeAll(async () => {
    gw = await startGateway(() => answer);
    // Access tokens come from the super-app, messages go to the gateway (MESSAGE_BASE_URL).
    superApp = await startFakeSuperApp({ appId: 'wx-app', appSecret: 's3cret' });
    const auth = { appId: 'wx-app', appSecret: 's3cret', timeoutMs: 2000 };
    app = new HttpMessageSender({
      baseUrl: gw.baseUrl,
      ...auth,
      timeZone: 'Asia/Shanghai',
      tokens: new AccessTokenCache({ baseUrl: superApp.baseUrl, ...auth }),
    });
  });
  afterAll(async () => {
    await app?.close();
    await gw?.close();
    await superApp?.close();
  });

  it('delivers on errcode 0 (or none) and sends the same request as before', async () => {
    answer = [200, { errcode: 0, errmsg: 'ok' }];
    await app.send('openid-1', MSG);
    answer = [200, {}];
    await app.send('openid-1', MSG);
    expect(gw.state.requests.at(-1)).toEqual({
      path: expect.stringMatching(/^\/cgi-bin\/message\/subscribe\/send\?access_token=[\w-]+$/),
      body: {
        touser: 'openid-1',
        template_id: 'ridetrace_exposure',
        page: 'pages/inbox/index',
        data: {
          time: { value: '2026-11-21 08:30' },
          vehicle: { value: '粤B12345 36路' },
          until: { value: '2026-12-05' },
        },
        miniprogram_state: 'formal',
        lang: 'zh_CN',
      },
    });
    expect(superApp.tokenRequests).toBe(1);
  });

  it('5xx and errcode −1 are retryable; 4xx (429 too) and other errcodes are not', async () => {
    const before = gw.state.connections;
    const cases: [[number, unknown], string, boolean][] = [
      [[500, { errcode: -1 }], 'message API status 500', true],
      [[502, 'bad gateway'], 'message API status 502', true],
      [[429, {}], 'message API status 429', false],
      [[400, { errcode: 40003 }], 'message API status 400', false],
      [[200, { errcode: -1, errmsg: 'busy' }], 'message API errcode -1', true],
      [[200, { errcode: 43101, errmsg: 'user refused' }], 'message API errcode 43101', false],
      [[200, { errcode: 40003 }], 'message API errcode 40003', false],
    ];
    for (const [a, message, retryable] of cases) {
      answer = a;
      expect(await deliveryFailure(app.send('openid-1', MSG))).toEqual({ message, retryable });
    }
    answer = [200, { errcode: 0 }];
    await app.send('openid-1', MSG);
    expect(gw.state.connections - before).toBeLessThanOrEqual(1);
  });
});

describe('claimDue', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  const queries: CompiledQuery[] = [];
  let caseId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    // The same database through a Kysely that records the statements, to EXPLAIN the claim as it is sent.
    const pool = new pg.Pool({ connectionString: database.url, max: 4 });
    // Dropping the database at the end terminates connections: not an error of the test.
    pool.on('error', () => undefined);
    db = new Kysely({
      dialect: new PostgresDialect({ pool }),
      log: (e) => {
        if (e.level === 'query') queries.push(e.query);
      },
    }) as unknown as Db;
    caseId = randomUUID();
    await sql`insert into cases (id, case_number, status, infectious_from, infectious_to, reason_sealed, opened_by)
      values (${caseId}, 'C-claim', 'open', now(), now(), '\\x00', 'test')`.execute(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  /** Rows of the test case: `n` queued, due `dueAgoMs` ago each (ms) or in the future (negative). */
  async function queue(dueAgoMs: number[]): Promise<string[]> {
    const ids = dueAgoMs.map(() => randomUUID());
    await db
      .insertInto('notifications')
      .values(
        ids.map((id, i) => ({
          id,
          case_id: caseId,
          passenger_id: randomUUID(),
          channel: 'sms' as const,
          state: 'queued' as const,
          next_attempt_at: sql<Date>`now() - make_interval(secs => ${dueAgoMs[i]! / 1000}::float8)`,
        })),
      )
      .execute();
    return ids;
  }

  /** Sorted ids (UPDATE … RETURNING gives no order). */
  function idsOf(rows: (string | undefined | { id: string })[]): string[] {
    return rows.map((r) => (typeof r === 'object' ? r.id : r!)).sort();
  }

  async function reset(): Promise<void> {
    await sql`delete from notifications`.execute(db);
  }

  it('claims due rows oldest first, not future ones, up to the limit', async () => {
    await reset();
    const ids = await queue([1000, 3000, 2000, -60_000, 500]);
    const first = await claimDue(db, 3, 60);
    expect(idsOf(first)).toEqual(idsOf([ids[1], ids[2], ids[0]]));
    for (const r of first) expect(r).toMatchObject({ state: 'sending', attempts: 1 });
    const second = await claimDue(db, 3, 60);
    expect(idsOf(second)).toEqual([ids[4]]);
    expect(await claimDue(db, 3, 60)).toEqual([]);
  });

  it('takes rows whose lease ran out first, never rows under a live lease', async () => {
    await reset();
    const [expired, live, due1, due2] = await queue([1000, 1000, 2000, 1000]);
    await sql`update notifications set state = 'sending', attempts = 2, locked_until = now() - interval '1 second'
      where id = ${expired}`.execute(db);
    await sql`update notifications set state = 'sending', attempts = 1, locked_until = now() + interval '1 minute'
      where id = ${live}`.execute(db);
    const got = await claimDue(db, 2, 60);
    expect(Object.fromEntries(got.map((r) => [r.id, r.attempts]))).toEqual({ [expired!]: 3, [due1!]: 1 });
    expect(idsOf(await claimDue(db, 5, 60))).toEqual([due2]);
  });

  it('concurrent claims never take the same row (SKIP LOCKED)', async () => {
    await reset();
    await queue(Array.from({ length: 40 }, (_, i) => 1000 + i));
    const batches = await Promise.all([1, 2, 3, 4].map(() => claimDue(db, 8, 60)));
    const ids = batches.flat().map((r) => r.id);
    expect(ids).toHaveLength(32);
    expect(new Set(ids).size).toBe(32);
  });

  it('walks the partial indexes in order, without a sort, with or without statistics', async () => {
    await reset();
    await queue(Array.from({ length: 5000 }, (_, i) => 1000 + (i % 977)));
    // The claim runs inside claim_notifications with the function's own planner settings: EXPLAIN its body with them.
    const fn = await sql<{ body: string; config: string[] | null }>`
      select prosrc as body, proconfig as config from pg_proc where proname = 'claim_notifications'`.execute(
      db,
    );
    const { body, config } = fn.rows[0]!;
    expect(config).toEqual(['enable_sort=off']);
    for (const analyse of [false, true]) {
      if (analyse) await sql`analyze notifications`.execute(db);
      expect(await claimDue(db, 16, 60)).toHaveLength(16);
      const plan = await db.transaction().execute(async (tx) => {
        await sql`select set_config('enable_sort', 'off', true)`.execute(tx);
        await sql.raw(`prepare claim_plan(integer, integer) as ${body}`).execute(tx);
        try {
          const r = await sql<{ 'QUERY PLAN': string }>`explain execute claim_plan(16, 60)`.execute(tx);
          return r.rows.map((row) => row['QUERY PLAN']).join('\n');
        } finally {
          await sql`deallocate claim_plan`.execute(tx);
        }
      });
      expect(plan).toMatch(/Index Scan using notifications_leased/);
      expect(plan).toMatch(/Index Scan using notifications_queued/);
      expect(plan).not.toMatch(/Sort|Bitmap|Seq Scan/);
    }
  });

  it('is one statement (no transaction of its own)', async () => {
    await reset();
    await queue([1000]);
    queries.length = 0;
    expect(await claimDue(db, 4, 60)).toHaveLength(1);
    expect(queries.map((q) => q.sql.trim())).toEqual([
      expect.stringMatching(/^select \* from claim_notifications/),
    ]);
  });
});

describe('the worker reads a batch at once', () => {
  const { t, w, msg, sms } = useNotifyWorld({ SMS_API_KEY: 'k', NOTIFY_BACKOFF_BASE_MS: '20' });

  it('one person in two cases on both channels, an unknown person, a missing mark', async () => {
    const { carrier } = await createCarrier(t, w.tokens.operator);
    const auth = await confirmedPassenger(t, 'batch-user', { name: '张三丰', phone: '13912345678' });
    const me = await t.http().get('/v1/passengers/me').set('authorization', auth).expect(200);
    const person = me.body.id as string;
    const stranger = randomUUID();
    const cases = [randomUUID(), randomUUID()];
    for (const [i, id] of cases.entries()) {
      await sql`insert into cases (id, case_number, status, infectious_from, infectious_to, reason_sealed, opened_by)
        values (${id}, ${`C-batch-${i}`}, 'open', now(), now(), '\\x00', 'test')`.execute(t.db);
    }
    const boardedAt = new Date('2026-11-21T00:30:00Z');
    const observeUntil = new Date('2026-12-05T15:59:00Z');
    const mark = (caseId: string, passengerId: string) => ({
      case_id: caseId,
      passenger_id: passengerId,
      level: 'close' as const,
      carrier_id: carrier.id as number,
      boarded_at: boardedAt,
      observe_until: observeUntil,
    });
    await bulk.insertMarks(t.db, [
      mark(cases[0]!, person),
      mark(cases[1]!, person),
      mark(cases[0]!, stranger),
    ]);
    await bulk.insertNotifications(t.db, [
      { id: randomUUID(), case_id: cases[0]!, passenger_id: person, channel: 'sms', state: 'queued' },
      { id: randomUUID(), case_id: cases[1]!, passenger_id: person, channel: 'app', state: 'queued' },
      // Nobody by that id: no app id (falls back to SMS), then no verified phone.
      { id: randomUUID(), case_id: cases[0]!, passenger_id: stranger, channel: 'app', state: 'queued' },
      // No exposure mark for this one.
      { id: randomUUID(), case_id: cases[1]!, passenger_id: stranger, channel: 'sms', state: 'queued' },
    ]);
    kickNotifier(t.app.ctx);
    const end = Date.now() + 10_000;
    let rows: {
      case_id: string;
      passenger_id: string;
      channel: string;
      state: string;
      last_error: string | null;
    }[];
    for (;;) {
      rows = await t.db
        .selectFrom('notifications')
        .select(['case_id', 'passenger_id', 'channel', 'state', 'last_error'])
        .where('case_id', 'in', cases)
        .execute();
      if (rows.every((r) => r.state === 'sent' || r.state === 'failed') || Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const state = (caseId: string, passengerId: string) => {
      const r = rows.find((x) => x.case_id === caseId && x.passenger_id === passengerId)!;
      return { channel: r.channel, state: r.state, lastError: r.last_error };
    };
    expect(state(cases[0]!, person)).toEqual({ channel: 'sms', state: 'sent', lastError: null });
    expect(state(cases[1]!, person)).toEqual({ channel: 'app', state: 'sent', lastError: null });
    expect(state(cases[0]!, stranger)).toEqual({
      channel: 'sms',
      state: 'failed',
      lastError: 'no verified phone number',
    });
    expect(state(cases[1]!, stranger)).toEqual({
      channel: 'sms',
      state: 'failed',
      lastError: 'no exposure mark',
    });
    expect(msg.received.map((r) => r.body.data)).toEqual([
      {
        time: { value: '2026-11-21 08:30' },
        vehicle: { value: '粤B12345 36路' },
        until: { value: '2026-12-05' },
      },
    ]);
    expect(sms.received.map((r) => r.body)).toEqual([
      {
        phone: '13912345678',
        template: 'ridetrace_exposure',
        params: { time: '2026-11-21 08:30', vehicle: '粤B12345', until: '2026-12-05' },
      },
    ]);
  });
});
