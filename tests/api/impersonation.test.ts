/**
 * Nobody can become another person by typing their phone or ID number: a typed (unverified) phone or ID links no
 * registrations, receives no SMS, never makes its owner a case subject, and a trace never crosses from one person to
 * the other — in both directions.
 */
import { describe, expect, it } from 'vitest';
import { useNotifyWorld } from '../support/fixtures.js';
import {
  grantReveal,
  createStaffedCarrier,
  notifyCase,
  openCase,
  passengerIdOf,
  registerManualRide,
  scanRide,
  waitFor,
  withCheckChar,
} from '../support/flows.js';
import { clientToken, confirmedPassenger, createCarrier } from '../support/test-app.js';

const { t, w, msg, sms } = useNotifyWorld();

async function colourOf(auth: string): Promise<string> {
  const res = await t.http().get('/v1/passengers/me/status').set('authorization', auth).expect(200);
  return res.body.colour as string;
}

async function inboxOf(auth: string): Promise<{ exposure: { carrier: { plate: string } } }[]> {
  const res = await t.http().get('/v1/passengers/me/notifications').set('authorization', auth).expect(200);
  return res.body.items as { exposure: { carrier: { plate: string } } }[];
}

/** Notifies the case and waits until its worker has handled every notification. */
async function notifyAndDeliver(caseId: string): Promise<void> {
  await notifyCase(t, w.tokens.official, caseId).expect(200);
  await waitFor(
    async () => {
      const res = await t
        .http()
        .get(`/v1/cases/${caseId}/notifications`)
        .set('authorization', w.tokens.official)
        .expect(200);
      const s = res.body.summary as Record<string, number>;
      return (s.queued ?? 0) + (s.sending ?? 0);
    },
    (left) => left === 0,
  );
}

async function exposedIds(caseId: string): Promise<string[]> {
  const res = await t
    .http()
    .get(`/v1/cases/${caseId}/exposures`)
    .set('authorization', w.tokens.official)
    .expect(200);
  return (res.body.items as { personId: string; registrations?: { id: string }[] }[]).flatMap((p) => [
    p.personId,
    ...(p.registrations ?? []).map((r) => r.id),
  ]);
}

async function openCaseOn(subject: Record<string, string>, caseNumber: string) {
  const res = await openCase(t, w.tokens.official, { subject, caseNumber, reason: 'confirmed case' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as {
    id: string;
    subject: { passengers: number };
    unverifiedClaims: { passengerId: string; phone: string | null }[];
  };
}

const sentTo = (phone: string) => sms.received.filter((r) => JSON.stringify(r.body).includes(phone));

describe('a passenger who types someone else’s phone', () => {
  it('the victim rides next to a case: only the victim is notified and turns yellow', async () => {
    const victimPhone = '13900001001';
    const { code: bus } = await createCarrier(t, w.tokens.operator, {
      kind: 'bus',
      plate: '粤B90001',
      city: '深圳',
    });
    const { code: other } = await createCarrier(t, w.tokens.operator, {
      kind: 'bus',
      plate: '粤B90002',
      city: '深圳',
    });
    const victim = await confirmedPassenger(t, 'imp-victim-1', { name: '李四', phone: victimPhone });
    const attacker = await confirmedPassenger(
      t,
      'imp-attacker-1',
      { name: '王五', phone: victimPhone },
      { verified: false },
    );
    const subject = await confirmedPassenger(t, 'imp-case-1', { name: '赵六', phone: '13900001009' });
    await scanRide(t, subject, bus.url);
    await scanRide(t, victim, bus.url);
    await scanRide(t, attacker, other.url);

    const c = await openCaseOn({ phone: '13900001009' }, 'C-IMP-1');
    const exposed = await exposedIds(c.id);
    expect(exposed).toContain(await passengerIdOf(t, victim));
    expect(exposed).not.toContain(await passengerIdOf(t, attacker));

    await notifyAndDeliver(c.id);
    expect(await colourOf(victim)).toBe('yellow');
    expect(await colourOf(attacker)).toBe('green');
    expect(await inboxOf(attacker)).toEqual([]);
    expect((await inboxOf(victim)).map((n) => n.exposure.carrier.plate)).toEqual(['粤B90001']);
    // The victim's super-app message went to the victim's own account, never the attacker's.
    expect(msg.received.map((r) => r.body.touser)).toContain('o_imp-victim-1');
    expect(msg.received.map((r) => r.body.touser)).not.toContain('o_imp-attacker-1');
  });

  it('the attacker rides next to a case: only the attacker is notified; the victim stays green and gets no SMS', async () => {
    const victimPhone = '13900002001';
    const { code: bus } = await createCarrier(t, w.tokens.operator, {
      kind: 'bus',
      plate: '粤B90003',
      city: '深圳',
    });
    const victim = await confirmedPassenger(t, 'imp-victim-2', { name: '钱七', phone: victimPhone });
    const attacker = await confirmedPassenger(
      t,
      'imp-attacker-2',
      { name: '孙八', phone: victimPhone },
      { verified: false },
    );
    const subject = await confirmedPassenger(t, 'imp-case-2', { name: '周九', phone: '13900002009' });
    await scanRide(t, subject, bus.url);
    await scanRide(t, attacker, bus.url);

    const c = await openCaseOn({ phone: '13900002009' }, 'C-IMP-2');
    const exposed = await exposedIds(c.id);
    expect(exposed).toContain(await passengerIdOf(t, attacker));
    expect(exposed).not.toContain(await passengerIdOf(t, victim));

    await notifyAndDeliver(c.id);
    expect(await colourOf(attacker)).toBe('yellow');
    expect(await colourOf(victim)).toBe('green');
    expect(await inboxOf(victim)).toEqual([]);
    expect(sentTo(victimPhone)).toEqual([]);
    expect(msg.received.map((r) => r.body.touser)).not.toContain('o_imp-victim-2');
  });

  it('a case opened on the victim’s phone takes the victim as subject; the attacker is only an unverified claim', async () => {
    const victimPhone = '13900003001';
    const victim = await confirmedPassenger(t, 'imp-victim-3', { name: '吴十', phone: victimPhone });
    const attacker = await confirmedPassenger(
      t,
      'imp-attacker-3',
      { name: '郑一', phone: victimPhone },
      { verified: false },
    );
    const c = await openCaseOn({ phone: victimPhone }, 'C-IMP-3');
    expect(c.subject.passengers).toBe(1);
    expect(c.unverifiedClaims.map((x) => x.passengerId)).toEqual([await passengerIdOf(t, attacker)]);
    // Unmasked for this official under a reveal grant; masked otherwise and for a trace:read-only token.
    expect(c.unverifiedClaims[0]!.phone).toBe('139****3001');
    await grantReveal(t, w.tokens.official, c.id);
    const unmasked = await t
      .http()
      .get(`/v1/cases/${c.id}?reveal=true`)
      .set('authorization', w.tokens.official)
      .expect(200);
    expect(unmasked.body.unverifiedClaims[0].phone).toBe(victimPhone);
    const readOnly = await clientToken(t, w.official, 'trace:read');
    const masked = await t.http().get(`/v1/cases/${c.id}`).set('authorization', readOnly).expect(200);
    expect(masked.body.unverifiedClaims[0].phone).toBe('139****3001');
    expect(await colourOf(victim)).toBe('red');
    expect(await colourOf(attacker)).toBe('green');
  });

  it('staff registering the victim by phone match the victim, never the passenger who typed it', async () => {
    const victimPhone = '13900004001';
    const { carrier } = await createStaffedCarrier(t, w, { kind: 'bus', plate: '粤B90004', city: '深圳' });
    await confirmedPassenger(
      t,
      'imp-attacker-4',
      { name: '冯二', phone: '13900004002' },
      { verified: false },
    );
    const victim = await confirmedPassenger(t, 'imp-victim-4', { name: '陈三', phone: victimPhone });
    const boardedAt = new Date().toISOString();
    const byVictim = await registerManualRide(t, w, carrier.id, {
      name: '陈三',
      phone: victimPhone,
      boardedAt,
    });
    expect(byVictim.rider.matched).toBe(true);
    // Only typed by a passenger: staff's rider is a new person, not that passenger.
    const byTyped = await registerManualRide(t, w, carrier.id, {
      name: '冯二',
      phone: '13900004002',
      boardedAt,
    });
    expect(byTyped.rider.matched).toBe(false);
    const rides = await t.http().get('/v1/passengers/me/rides').set('authorization', victim).expect(200);
    expect(rides.body.items).toHaveLength(1);
  });
});

describe('a passenger who types someone else’s ID number', () => {
  it('links nothing: a case on the ID takes the staff-checked rider only, the typist is a claim and untraced', async () => {
    const idNumber = withCheckChar('44030419900101123');
    const { carrier, code } = await createStaffedCarrier(t, w, {
      kind: 'bus',
      plate: '粤B90005',
      city: '深圳',
    });
    const boardedAt = new Date(Date.now() - 5 * 60_000).toISOString();
    // The real holder, registered by staff from the ID card.
    await registerManualRide(t, w, carrier.id, { name: '褚四', phone: '13900005001', idNumber, boardedAt });
    const attacker = await confirmedPassenger(
      t,
      'imp-attacker-5',
      { name: '卫五', phone: '13900005002', idNumber },
      { verified: false },
    );
    const neighbour = await confirmedPassenger(t, 'imp-neighbour-5', { name: '蒋六', phone: '13900005003' });
    const attackersBuddy = await confirmedPassenger(t, 'imp-buddy-5', { name: '沈七', phone: '13900005004' });
    const { code: elsewhere } = await createCarrier(t, w.tokens.operator, {
      kind: 'bus',
      plate: '粤B90006',
      city: '深圳',
    });
    await scanRide(t, attacker, elsewhere.url);
    await scanRide(t, attackersBuddy, elsewhere.url);
    await scanRide(t, neighbour, code.url);

    const c = await openCaseOn({ idNumber }, 'C-IMP-5');
    expect(c.subject.passengers).toBe(1);
    expect(c.unverifiedClaims.map((x) => x.passengerId)).toEqual([await passengerIdOf(t, attacker)]);
    // The holder's ride is traced; the attacker's is not: who rode only with the attacker is no contact.
    const exposed = await exposedIds(c.id);
    expect(exposed).toContain(await passengerIdOf(t, neighbour));
    expect(exposed).not.toContain(await passengerIdOf(t, attackersBuddy));
    expect(await colourOf(attacker)).toBe('green');
    await notifyAndDeliver(c.id);
    expect(await inboxOf(attacker)).toEqual([]);
  });
});
