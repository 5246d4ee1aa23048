/** Riders registered by staff are traced too, and one person registered twice counts once (and is never their own contact). */
import type { ExposurePage } from '@ridetrace/shared';
import { describe, expect, it } from 'vitest';
import {
  expectNoRaw,
  HOUR,
  iso,
  MIN,
  newIdNumber,
  newName,
  newPhone,
  next,
  useTraceKit,
  type Person,
} from '../support/trace-kit.js';

const { k } = useTraceKit();

describe('exposures: manual riders and merged registrations', () => {
  it('manually registered riders are included with registration manual', async () => {
    const v = await k.vehicle('bus', { staff: true });
    const s = await k.person();
    await k.ride(s, v, 0);
    const rider = { name: newName(next()), phone: newPhone(next()), idNumber: newIdNumber(next()) };
    const reg = await k.manualRide(v, rider, 4 * MIN);
    expect(reg.rider.matched).toBe(false);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const page = await k.exposures(c.id);
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({
      name: rider.name,
      phone: rider.phone,
      idNumber: rider.idNumber,
      registration: 'manual',
      level: 'close',
      degree: 1,
      contacts: [{ contactBoardedAt: iso(4 * MIN), gapMinutes: 4, level: 'close' }],
    });
  });

  it('a manual rider with the phone of an app passenger (both on rides) appears once, merged by phone', async () => {
    const v = await k.vehicle('bus', { staff: true });
    const s = await k.person();
    await k.ride(s, v, 0);
    const who = { name: newName(next()), phone: newPhone(next()) };
    // Registered by staff first (a manual rider), later the same person installs the app.
    const reg = await k.manualRide(v, who, MIN);
    expect(reg.rider.matched).toBe(false);
    const app = await k.person(who);
    await k.ride(app, v, 6 * MIN);
    const other = await k.person();
    await k.ride(other, v, 12 * MIN);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const page = await k.exposures(c.id);
    expect(page.total).toBe(2);
    const same = page.items.filter((i) => i.phone === who.phone);
    expect(same).toHaveLength(1);
    expect(same[0]).toMatchObject({
      personId: app.id,
      name: who.name,
      level: 'close',
      firstContactAt: iso(MIN),
    });
    expect(same[0]!.contacts.map((x) => x.contactBoardedAt)).toEqual([iso(MIN), iso(6 * MIN)]);
    expect(page.items.map((i) => i.personId)).toEqual([app.id, other.id]);
  });

  it('a staff registration of a known app passenger is matched and counted once', async () => {
    const v = await k.vehicle('bus', { staff: true });
    const s = await k.person();
    await k.ride(s, v, 0);
    const app = await k.person();
    await k.ride(app, v, 2 * MIN);
    // More than RIDES_REPEAT_MINUTES after the app ride (closer, it would be that ride again).
    const reg = await k.manualRide(v, { name: app.name, phone: app.phone }, 9 * MIN);
    expect(reg.rider.matched).toBe(true);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const page = await k.exposures(c.id);
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({ personId: app.id, registration: 'app' });
    expect(page.items[0]!.contacts).toHaveLength(2);
  });

  /** The subject was registered by staff before installing the app: two registrations of one person. */
  async function subjectWithTwoRegistrations(
    manual: { phone?: string; idNumber?: string },
    app: { idNumber?: string },
  ) {
    const v = await k.vehicle('bus', { staff: true });
    const name = newName(next());
    const phone = newPhone(next());
    const reg = await k.manualRide(
      v,
      { name, phone: manual.phone ?? phone, ...(manual.idNumber ? { idNumber: manual.idNumber } : {}) },
      -5 * MIN,
    );
    expect(reg.rider.matched).toBe(false);
    const s = await k.person({ name, phone, ...(app.idNumber ? { idNumber: app.idNumber } : {}) });
    await k.ride(s, v, 0);
    const contact = await k.person();
    await k.ride(contact, v, 2 * MIN);
    return { s, contact, raw: [phone, ...(manual.phone ? [manual.phone] : [])] };
  }

  function expectOnlyContact(page: ExposurePage, contact: Person, raw: string[]) {
    expect(page.items.map((i) => i.personId)).toEqual([contact.id]);
    expect(page.caseRides).toBe(2);
    expect(page.items[0]!.contacts.map((c) => c.caseBoardedAt).sort()).toEqual([iso(-5 * MIN), iso(0)]);
    expectNoRaw(page, raw);
  }

  it('the subject with an app and a manual registration (same phone) is never its own contact', async () => {
    const { s, contact, raw } = await subjectWithTwoRegistrations({}, {});
    for (const subject of [{ phone: s.phone }, { passengerId: s.id }] as Record<string, string>[]) {
      const c = await k.openCase(subject, -HOUR, HOUR);
      expect(c.subject.passengers).toBe(2);
      expectOnlyContact(await k.exposures(c.id), contact, raw);
      expectOnlyContact(await k.exposures(c.id, '?degree=2'), contact, raw);
    }
  });

  it('case by an ID number only typed in the app: no subject, the registration is an unverified claim', async () => {
    const idNumber = newIdNumber(next());
    const { s } = await subjectWithTwoRegistrations({}, { idNumber });
    // Same person by the verified phone: the passenger-id lookup finds both registrations.
    const byId = await k.openCase({ passengerId: s.id }, -HOUR, HOUR);
    expect(byId.subject.passengers).toBe(2);
    const c = await k.openCase({ idNumber }, -HOUR, HOUR);
    expect(c.subject.passengers).toBe(0);
    expect(c.unverifiedClaims.map((x) => x.passengerId)).toEqual([s.id]);
    expect((await k.exposures(c.id)).total).toBe(0);
  });

  it('a staff-checked ID number is not linked to an app user who only typed it (other phone)', async () => {
    const idNumber = newIdNumber(next());
    const otherPhone = newPhone(next());
    const { s, contact } = await subjectWithTwoRegistrations({ phone: otherPhone, idNumber }, { idNumber });
    const byId = await k.openCase({ passengerId: s.id }, -HOUR, HOUR);
    expect(byId.subject.passengers).toBe(1);
    const page = await k.exposures(byId.id);
    // The ID holder registered by staff is another person: a contact, not the subject.
    expect(page.items.map((i) => i.registration).sort()).toEqual(['app', 'manual']);
    expect(page.items.map((i) => i.personId)).toContain(contact.id);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    expect(c.subject.passengers).toBe(1);
  });
});
