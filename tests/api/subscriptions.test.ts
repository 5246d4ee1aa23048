/**
 * A super-app message needs an accepted subscription (one per message); without one, or when the super-app refuses,
 * the exposure notice goes by SMS at once.
 */
import { describe, expect, it } from 'vitest';
import { useNotifyWorld } from '../support/fixtures.js';
import { expectError, notifyCase, openCase, scanRide, waitFor } from '../support/flows.js';
import { confirmedPassenger, createCarrier } from '../support/test-app.js';

const { t, w, msg, sms } = useNotifyWorld();

const subscribe = (auth: string, result: string, templateId = t.config.superApp.exposureTemplateId) =>
  t.http().post('/v1/passengers/me/subscriptions').set('authorization', auth).send({ templateId, result });

let cases = 0;
/** A case whose one contact is `contact`; notified, and waited for until delivered. The contact's notification. */
async function exposeAndNotify(contact: string) {
  const n = ++cases;
  const { code } = await createCarrier(t, w.tokens.operator, {
    kind: 'bus',
    plate: `粤S${10000 + n}`,
    city: '深圳',
  });
  const subjectPhone = `1390000${String(7000 + n)}`;
  const subject = await confirmedPassenger(t, `sub-case-${n}`, { name: '林一', phone: subjectPhone });
  await scanRide(t, subject, code.url);
  await scanRide(t, contact, code.url);
  const c = await openCase(t, w.tokens.official, {
    subject: { phone: subjectPhone },
    caseNumber: `C-SUB-${n}`,
    reason: 'r',
  });
  expect(c.status).toBe(201);
  await notifyCase(t, w.tokens.official, c.body.id).expect(200);
  const items = await waitFor(
    async () =>
      (
        await t
          .http()
          .get(`/v1/cases/${c.body.id}/notifications`)
          .set('authorization', w.tokens.official)
          .expect(200)
      ).body.items as { channel: string; state: string; lastError: string | null }[],
    (list) => list.length === 1 && (list[0]!.state === 'sent' || list[0]!.state === 'failed'),
  );
  return items[0]!;
}

describe('subscriptions', () => {
  it('accept adds one message grant; reject, ban and filter add none; an unknown template is refused', async () => {
    const auth = await confirmedPassenger(
      t,
      'sub-1',
      { name: '林二', phone: '13900008101' },
      { subscriptions: 0 },
    );
    expect((await subscribe(auth, 'accept').expect(200)).body).toEqual({ messageGrants: 1 });
    expect((await subscribe(auth, 'accept').expect(200)).body).toEqual({ messageGrants: 2 });
    for (const result of ['reject', 'ban', 'filter'])
      expect((await subscribe(auth, result).expect(200)).body).toEqual({ messageGrants: 2 });
    expectError(await subscribe(auth, 'accept', 'another-template'), 400, 'validation_failed');
    const me = await t.http().get('/v1/passengers/me').set('authorization', auth).expect(200);
    expect(me.body.messageGrants).toBe(2);
  });

  it('the secondary-contact template is accepted too, but its answers are no exposure grants', async () => {
    const secondary = t.config.superApp.secondaryTemplateId;
    expect(secondary).not.toBe(t.config.superApp.exposureTemplateId);
    const auth = await confirmedPassenger(
      t,
      'sub-4',
      { name: '林五', phone: '13900008104' },
      { subscriptions: 0 },
    );
    for (const result of ['accept', 'reject', 'ban', 'filter'])
      expect((await subscribe(auth, result, secondary).expect(200)).body).toEqual({ messageGrants: 0 });
    expect((await subscribe(auth, 'accept').expect(200)).body).toEqual({ messageGrants: 1 });
    expect((await subscribe(auth, 'accept', secondary).expect(200)).body).toEqual({ messageGrants: 1 });
    // The exposure grant alone carries an exposure notice; a second one goes by SMS, whatever the secondary answers.
    expect(await exposeAndNotify(auth)).toMatchObject({ channel: 'app', state: 'sent' });
    expect(await exposeAndNotify(auth)).toMatchObject({ channel: 'sms', state: 'sent' });
    const me = await t.http().get('/v1/passengers/me').set('authorization', auth).expect(200);
    expect(me.body.messageGrants).toBe(0);
  });

  it('one grant: the first notice is a super-app message, the next one (no grant left) an SMS at once', async () => {
    const auth = await confirmedPassenger(t, 'sub-2', { name: '林三', phone: '13900008102' });
    const first = await exposeAndNotify(auth);
    expect(first).toMatchObject({ channel: 'app', state: 'sent' });
    expect(msg.received.filter((r) => r.body.touser === 'o_sub-2')).toHaveLength(1);
    const second = await exposeAndNotify(auth);
    expect(second).toMatchObject({ channel: 'sms', state: 'sent' });
    expect(sms.received.filter((r) => r.body.phone === '13900008102')).toHaveLength(1);
  });

  it('the super-app refusing (43101) falls back to SMS at once and keeps no grant', async () => {
    const auth = await confirmedPassenger(t, 'sub-3', { name: '林四', phone: '13900008103' });
    msg.rejectAll = true;
    try {
      const n = await exposeAndNotify(auth);
      expect(n).toMatchObject({ channel: 'sms', state: 'sent' });
    } finally {
      msg.rejectAll = false;
    }
    const me = await t.http().get('/v1/passengers/me').set('authorization', auth).expect(200);
    expect(me.body.messageGrants).toBe(0);
  });
});
