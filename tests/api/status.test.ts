import { localDay } from '../support/days.js';
import { createClient } from '@ridetrace/server';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import {
  expectError,
  notifyCase,
  openCase,
  passengerIdOf,
  scanRide,
  seedPersonRegisteredTwice,
} from '../support/flows.js';
import {
  clientToken,
  confirmedPassenger,
  createCarrier,
  type TestApp,
  type World,
} from '../support/test-app.js';

const MIN = 60_000;
const DAY = 86_400_000;

const GREEN = { colour: 'green', reason: 'none', since: null, validUntil: null };

let counter = 0;
const nextPhone = () => `136${String(++counter).padStart(8, '0')}`;

interface Rider {
  auth: string;
  personId: string;
  phone: string;
}

interface Exposure {
  caseId: string;
  infectiousTo: string;
  subject: Rider;
  contact: Rider;
}

async function rider(t: TestApp, user: string, name = '张三丰'): Promise<Rider> {
  const phone = nextPhone();
  const auth = await confirmedPassenger(t, user, { name, phone });
  return { auth, personId: await passengerIdOf(t, auth), phone };
}

/**
 * A bus where the subject boarded 20 minutes ago and the contact 15 minutes ago (offline scans), and an
 * open case on the subject (infectious until a minute ago). Nobody is notified yet.
 */
async function exposure(t: TestApp, w: World, contact?: Rider): Promise<Exposure> {
  const k = ++counter;
  const { code } = await createCarrier(t, w.tokens.operator, {
    kind: 'bus',
    plate: `粤S${String(k).padStart(5, '0')}`,
    route: '12路',
    city: '深圳',
  });
  const now = Date.now();
  const ago = (m: number) => new Date(now - m * MIN).toISOString();
  const subject = await rider(t, `s${k}-case`, '王大明');
  const exposed = contact ?? (await rider(t, `s${k}-contact`));
  await scanRide(t, subject.auth, code.url, ago(20));
  await scanRide(t, exposed.auth, code.url, ago(15));
  const infectiousTo = ago(1);
  const c = await openCase(t, w.tokens.official, {
    subject: { phone: subject.phone },
    infectiousFrom: ago(24 * 60),
    infectiousTo,
    caseNumber: `S-${k}`,
    reason: 'positive test',
  });
  expect(c.status).toBe(201);
  return { caseId: c.body.id as string, infectiousTo, subject, contact: exposed };
}

const statusOf = async (t: TestApp, auth: string) => {
  const res = await t.http().get('/v1/passengers/me/status').set('authorization', auth);
  expect(res.status).toBe(200);
  return res.body as { colour: string; reason: string; since: string | null; validUntil: string | null };
};

const notify = (t: TestApp, w: World, caseId: string) => notifyCase(t, w.tokens.official, caseId).expect(200);

/** Runs `fn` with the server clock moved by `offsetMs`, then puts it back. */
async function withClock<T>(t: TestApp, offsetMs: number, fn: () => Promise<T>): Promise<T> {
  t.clock.offsetMs = offsetMs;
  try {
    return await fn();
  } finally {
    t.clock.offsetMs = 0;
  }
}

// Offline scans up to 3 days old: the itinerary spans several days.
const { t, w } = useWorld({ RIDES_MAX_LATE_SECONDS: String(3 * 86_400) });

describe('GET /v1/passengers/me/status', () => {
  it('is green for a fresh passenger', async () => {
    const p = await rider(t, 'fresh');
    expect(await statusOf(t, p.auth)).toEqual(GREEN);
  });

  it('is red for the subject of an open case and green again once the case is closed', async () => {
    const e = await exposure(t, w);
    const c = await t.http().get(`/v1/cases/${e.caseId}`).set('authorization', w.tokens.official).expect(200);
    expect(await statusOf(t, e.subject.auth)).toEqual({
      colour: 'red',
      reason: 'case',
      since: c.body.openedAt,
      validUntil: null,
    });
    await t
      .http()
      .post(`/v1/cases/${e.caseId}/close`)
      .set('authorization', w.tokens.official)
      .send({ reason: 'recovered' })
      .expect(200);
    expect(await statusOf(t, e.subject.auth)).toEqual(GREEN);
  });

  it('is green while exposed but not notified, yellow once notified, green after the observation period', async () => {
    const e = await exposure(t, w);
    expect(await statusOf(t, e.contact.auth)).toEqual(GREEN);

    await notify(t, w, e.caseId);
    const validUntil = new Date(Date.parse(e.infectiousTo) + 14 * DAY).toISOString();
    const yellow = await statusOf(t, e.contact.auth);
    expect(yellow).toMatchObject({ colour: 'yellow', reason: 'exposure', validUntil });
    expect(yellow.since).not.toBeNull();
    expect(Math.abs(Date.parse(yellow.since!) - Date.now())).toBeLessThan(60_000);
    // The subject stays red, not yellow.
    expect((await statusOf(t, e.subject.auth)).colour).toBe('red');

    const untilMs = Date.parse(validUntil) - Date.now();
    // A minute before the end of observation: still yellow.
    expect((await withClock(t, untilMs - MIN, () => statusOf(t, e.contact.auth))).colour).toBe('yellow');
    // Past it: green.
    expect(await withClock(t, untilMs + MIN, () => statusOf(t, e.contact.auth))).toEqual(GREEN);
    // And back to now: yellow again (the mark is still in force).
    expect((await statusOf(t, e.contact.auth)).colour).toBe('yellow');
  });

  it('refuses non-passengers', async () => {
    for (const token of [w.tokens.staff, w.tokens.official, w.tokens.operator, w.tokens.admin]) {
      expectError(
        await t.http().get('/v1/passengers/me/status').set('authorization', token),
        403,
        'forbidden',
      );
    }
    expectError(await t.http().get('/v1/passengers/me/status'), 401, 'auth_required');
  });
});

describe('a person with two registrations', () => {
  it('exposed through the manual registration, the same person is yellow in the app too', async () => {
    // Notify marks every registration of the person yellow, the app one without rides too.
    const k = ++counter;
    const { caseId, manual, appAuth } = await seedPersonRegisteredTwice(t, w, {
      carrier: { kind: 'bus', plate: `粤S${String(k).padStart(5, '0')}`, city: '深圳' },
      subject: { user: `s${k}-case`, name: '王大明', phone: nextPhone() },
      person: { user: `s${k}-later-app`, name: '吴用', phone: nextPhone() },
      manualMinutesAgo: 15,
      caseNumber: `S-${k}`,
      reason: 'positive test',
    });
    expect(manual.rider.matched).toBe(false);
    const n = await notify(t, w, caseId);
    expect(n.body).toMatchObject({ exposed: 1, queued: 1 });
    expect(await statusOf(t, appAuth)).toMatchObject({ colour: 'yellow', reason: 'exposure' });
  });
});

describe('OBSERVATION_DAYS', () => {
  const { t: t5, w: w5 } = useWorld({ OBSERVATION_DAYS: '5' });

  it('sets the end of the yellow status (infectiousTo + OBSERVATION_DAYS)', async () => {
    const e = await exposure(t5, w5);
    await notify(t5, w5, e.caseId);
    const validUntil = new Date(Date.parse(e.infectiousTo) + 5 * DAY).toISOString();
    expect(await statusOf(t5, e.contact.auth)).toMatchObject({
      colour: 'yellow',
      reason: 'exposure',
      validUntil,
    });
    const inbox = await t5
      .http()
      .get('/v1/passengers/me/notifications')
      .set('authorization', e.contact.auth)
      .expect(200);
    expect(inbox.body.items[0].observeUntil).toBe(validUntil);

    const untilMs = Date.parse(validUntil) - Date.now();
    expect((await withClock(t5, untilMs - MIN, () => statusOf(t5, e.contact.auth))).colour).toBe('yellow');
    expect(await withClock(t5, untilMs + MIN, () => statusOf(t5, e.contact.auth))).toEqual(GREEN);
  });

  it('a status token of another deployment does not verify here (forged)', async () => {
    const p = await rider(t5, 'other-deployment');
    const issued = await t5
      .http()
      .post('/v1/passengers/me/status-token')
      .set('authorization', p.auth)
      .expect(200);
    const res = await t
      .http()
      .post('/v1/status/verify')
      .set('authorization', w.tokens.staff)
      .send({ token: issued.body.token });
    expectError(res, 400, 'status_token_forged');
  });
});

describe('POST /v1/status/clear', () => {
  const clear = (token: string, body: Record<string, unknown>) =>
    t.http().post('/v1/status/clear').set('authorization', token).send(body);

  it('an official clears a yellow person: green again, marks cleared, audited', async () => {
    const e = await exposure(t, w);
    await notify(t, w, e.caseId);
    expect((await statusOf(t, e.contact.auth)).colour).toBe('yellow');

    const res = await clear(w.tokens.official, {
      personId: e.contact.personId,
      reason: 'negative PCR twice',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(GREEN);
    expect(await statusOf(t, e.contact.auth)).toEqual(GREEN);

    const marks = await sql<{ cleared_at: Date | null; cleared_by: string | null }>`
      select cleared_at, cleared_by from exposure_marks
      where case_id = ${e.caseId}::uuid and passenger_id = ${e.contact.personId}::uuid`.execute(t.db);
    expect(marks.rows).toHaveLength(1);
    expect(marks.rows[0]!.cleared_at).not.toBeNull();
    expect(marks.rows[0]!.cleared_by).toBe(w.official.clientId);

    const audit = await t.http().get('/v1/audit?limit=200').set('authorization', w.tokens.admin).expect(200);
    const entries = (
      audit.body.items as { action: string; actor: string; people: number; detail: string }[]
    ).filter((i) => i.action === 'person.clear' && i.detail.includes('negative PCR twice'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: w.official.clientId, people: 1 });
  });

  it('clearing one case leaves the exposure of another case in force', async () => {
    const first = await exposure(t, w);
    const second = await exposure(t, w, first.contact);
    await notify(t, w, first.caseId);
    await notify(t, w, second.caseId);
    const res = await clear(w.tokens.official, {
      personId: first.contact.personId,
      caseId: first.caseId,
      reason: 'seen by doctor',
    });
    expect(res.status).toBe(200);
    expect(res.body.colour).toBe('yellow');
    expect((await statusOf(t, first.contact.auth)).colour).toBe('yellow');
    await clear(w.tokens.official, { personId: first.contact.personId, reason: 'all clear' }).expect(200);
    expect(await statusOf(t, first.contact.auth)).toEqual(GREEN);
  });

  it('unknown person → 404, missing or empty reason → 400, non-officials → 403', async () => {
    const e = await exposure(t, w);
    await notify(t, w, e.caseId);
    expectError(
      await clear(w.tokens.official, { personId: randomUUID(), reason: 'x' }),
      404,
      'passenger_not_found',
    );
    expectError(await clear(w.tokens.official, { personId: e.contact.personId }), 400, 'validation_failed');
    expectError(
      await clear(w.tokens.official, { personId: e.contact.personId, reason: '' }),
      400,
      'validation_failed',
    );
    expectError(await clear(w.tokens.official, { personId: 'nope', reason: 'x' }), 400, 'validation_failed');

    const reader = await createClient(t.db, { name: 'r', role: 'official', scopes: ['trace:read'] });
    const readerToken = await clientToken(t, reader);
    for (const token of [readerToken, e.contact.auth, w.tokens.staff, w.tokens.operator, w.tokens.admin]) {
      expectError(await clear(token, { personId: e.contact.personId, reason: 'x' }), 403, 'forbidden');
    }
    expectError(
      await t.http().post('/v1/status/clear').send({ personId: e.contact.personId, reason: 'x' }),
      401,
      'auth_required',
    );
    // None of that cleared anything.
    expect((await statusOf(t, e.contact.auth)).colour).toBe('yellow');
  });
});

describe('status token', () => {
  const issue = async (auth: string) => {
    const res = await t.http().post('/v1/passengers/me/status-token').set('authorization', auth);
    expect(res.status).toBe(200);
    return res.body as { token: string; colour: string; expiresAt: string };
  };
  const verify = (token: string, auth = w.tokens.staff) =>
    t.http().post('/v1/status/verify').set('authorization', auth).send({ token });

  it('is issued for 60 s and verified by staff to the colour and masked name only', async () => {
    const p = await rider(t, 'token-holder', '张三丰');
    const before = Date.now();
    const issued = await issue(p.auth);
    expect(Object.keys(issued).sort()).toEqual(['colour', 'expiresAt', 'token']);
    expect(issued.colour).toBe('green');
    expect(Math.abs(Date.parse(issued.expiresAt) - (before + 60_000))).toBeLessThan(3_000);

    const res = await verify(issued.token);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['colour', 'expiresAt', 'issuedAt', 'name']);
    expect(res.body).toEqual({
      colour: 'green',
      name: '张*丰',
      issuedAt: new Date(Date.parse(issued.expiresAt) - 60_000).toISOString(),
      expiresAt: issued.expiresAt,
    });
    const text = JSON.stringify(res.body);
    for (const secret of [p.phone, p.personId, '张三丰']) expect(text).not.toContain(secret);
    // Verifiable more than once within its lifetime.
    expect((await verify(issued.token)).status).toBe(200);
  });

  it('reflects the current colour at verification (yellow after notify, red for a case)', async () => {
    const e = await exposure(t, w);
    const contactToken = await issue(e.contact.auth);
    expect(contactToken.colour).toBe('green');
    expect((await verify(contactToken.token)).body.colour).toBe('green');
    await notify(t, w, e.caseId);
    expect((await verify(contactToken.token)).body.colour).toBe('yellow');
    expect((await issue(e.contact.auth)).colour).toBe('yellow');

    const subjectToken = await issue(e.subject.auth);
    expect(subjectToken.colour).toBe('red');
    const v = await verify(subjectToken.token);
    expect(v.body).toMatchObject({ colour: 'red', name: '王*明' });
  });

  it('expires after 60 s', async () => {
    const p = await rider(t, 'token-expiry');
    const issued = await issue(p.auth);
    expect((await withClock(t, 55_000, () => verify(issued.token))).status).toBe(200);
    expectError(await withClock(t, 61_000, () => verify(issued.token)), 400, 'status_token_expired');
  });

  it('rejects a changed token as forged and garbage as malformed', async () => {
    const p = await rider(t, 'token-forger');
    const { token } = await issue(p.auth);
    expect(token.startsWith('RTS1.')).toBe(true);
    // One character changed keeps the token well-formed: only the AEAD check can find it forged.
    const i = 'RTS1.'.length + 20;
    const changed = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    expect(changed).not.toBe(token);
    expectError(await verify(changed), 400, 'status_token_forged');
    // The last character changed too (the tag).
    const last = token.length - 2;
    const tagChanged = token.slice(0, last) + (token[last] === 'x' ? 'y' : 'x') + token.slice(last + 1);
    expectError(await verify(tagChanged), 400, 'status_token_forged');

    expectError(await verify('hello'), 400, 'status_token_malformed');
    expectError(await verify(`RTS1.${token.slice(5, 15)}`), 400, 'status_token_malformed');
    expectError(await verify(`${token.slice(0, 20)}+/${token.slice(22)}`), 400, 'status_token_malformed');
    expectError(await verify(`RTS2.${token.slice(5)}`), 400, 'status_token_malformed');
    expectError(await verify(''), 400, 'validation_failed');
  });

  it('verification is for staff only; issuing for passengers only', async () => {
    const p = await rider(t, 'token-roles');
    const { token } = await issue(p.auth);
    for (const auth of [p.auth, w.tokens.operator, w.tokens.official, w.tokens.admin]) {
      expectError(await verify(token, auth), 403, 'forbidden');
    }
    expectError(await t.http().post('/v1/status/verify').send({ token }), 401, 'auth_required');
    for (const auth of [w.tokens.staff, w.tokens.official]) {
      expectError(
        await t.http().post('/v1/passengers/me/status-token').set('authorization', auth),
        403,
        'forbidden',
      );
    }
  });
});

describe('GET /v1/passengers/me/itinerary', () => {
  it('groups own rides by day (newest first) and by city within a day', async () => {
    const sz = await createCarrier(t, w.tokens.operator, {
      kind: 'bus',
      plate: '粤BIT001',
      route: '1路',
      city: '深圳',
    });
    const gz = await createCarrier(t, w.tokens.operator, { kind: 'metro', plate: 'GZ-M3', city: '广州' });
    const traveller = await rider(t, 'traveller');
    const other = await rider(t, 'homebody');

    const now = new Date();
    const dayOf = localDay;
    const d2 = dayOf(new Date(now.getTime() - DAY));
    const d1 = dayOf(new Date(now.getTime() - 2 * DAY));
    const at = (day: string, hhmm: string) => new Date(`${day}T${hhmm}:00.000+08:00`).toISOString();
    // Two days ago: 深圳 twice and 广州 once; yesterday: 广州; today: 深圳 (live scan).
    const r1 = await scanRide(t, traveller.auth, sz.code.url, at(d1, '10:00'));
    const r2 = await scanRide(t, traveller.auth, gz.code.url, at(d1, '12:00'));
    const r3 = await scanRide(t, traveller.auth, sz.code.url, at(d1, '14:00'));
    const r4 = await scanRide(t, traveller.auth, gz.code.url, at(d2, '12:00'));
    const r5 = await scanRide(t, traveller.auth, sz.code.url);
    const today = dayOf(new Date(r5.boardedAt));
    await scanRide(t, other.auth, gz.code.url, at(d1, '12:05'));

    const res = await t
      .http()
      .get('/v1/passengers/me/itinerary?days=14')
      .set('authorization', traveller.auth);
    expect(res.status).toBe(200);
    const days = res.body.days as {
      day: string;
      cities: { city: string; rides: { id: string; boardedAt: string; carrier: { id: number } }[] }[];
    }[];
    expect(days.map((d) => d.day)).toEqual([today, d2, d1]);

    const summary = days.map((d) => ({
      day: d.day,
      cities: d.cities
        .map((c) => ({ city: c.city, rides: c.rides.map((r) => r.id).sort() }))
        .sort((a, b) => a.city.localeCompare(b.city)),
    }));
    expect(summary).toEqual([
      { day: today, cities: [{ city: '深圳', rides: [r5.id] }] },
      { day: d2, cities: [{ city: '广州', rides: [r4.id] }] },
      {
        day: d1,
        cities: [
          { city: '广州', rides: [r2.id] },
          { city: '深圳', rides: [r1.id, r3.id].sort() },
        ].sort((a, b) => a.city.localeCompare(b.city)),
      },
    ]);
    const d1sz = days[2]!.cities.find((c) => c.city === '深圳')!;
    expect(d1sz.rides.every((r) => r.carrier.id === sz.carrier.id)).toBe(true);
    expect(d1sz.rides.map((r) => r.boardedAt).sort()).toEqual([r1.boardedAt, r3.boardedAt].sort());
    expect(days[2]!.cities.find((c) => c.city === '广州')!.rides[0]).toEqual({
      id: r2.id,
      boardedAt: r2.boardedAt,
      carrier: { id: gz.carrier.id, kind: 'metro', plate: 'GZ-M3', route: null, city: '广州' },
    });

    // The default is 14 days; days=1 leaves out the rides of two days ago.
    const dflt = await t.http().get('/v1/passengers/me/itinerary').set('authorization', traveller.auth);
    expect(dflt.status).toBe(200);
    expect(dflt.body).toEqual(res.body);
    const one = await t.http().get('/v1/passengers/me/itinerary?days=1').set('authorization', traveller.auth);
    expect(one.status).toBe(200);
    const oneDays = (one.body.days as { day: string }[]).map((d) => d.day);
    expect(oneDays).toContain(today);
    expect(oneDays).not.toContain(d1);

    // Another passenger sees only their own ride.
    const theirs = await t.http().get('/v1/passengers/me/itinerary').set('authorization', other.auth);
    expect(theirs.body.days).toHaveLength(1);
    expect(theirs.body.days[0].cities[0].rides).toHaveLength(1);
    expect(JSON.stringify(theirs.body)).not.toContain(r2.id);
  });

  it('is empty for a passenger without rides', async () => {
    const p = await rider(t, 'no-rides');
    const res = await t.http().get('/v1/passengers/me/itinerary').set('authorization', p.auth);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ days: [] });
  });

  it('rejects days out of range (400) and non-passengers (403)', async () => {
    const p = await rider(t, 'itinerary-range');
    for (const q of ['0', '29', '-1', 'abc', '1.5']) {
      expectError(
        await t.http().get(`/v1/passengers/me/itinerary?days=${q}`).set('authorization', p.auth),
        400,
        'validation_failed',
      );
    }
    expect(
      (await t.http().get('/v1/passengers/me/itinerary?days=28').set('authorization', p.auth)).status,
    ).toBe(200);
    expectError(
      await t.http().get('/v1/passengers/me/itinerary').set('authorization', w.tokens.staff),
      403,
      'forbidden',
    );
  });
});
