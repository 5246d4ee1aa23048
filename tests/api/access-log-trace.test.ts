/**
 * The passenger's access log fills itself: opening a case records the subject (case investigation), reading or
 * exporting the exposures records the co-passengers (contact tracing), notifying records the people notified — with
 * the agency of the official who did it, never their name or the case.
 */
import { describe, expect, it } from 'vitest';
import { useNotifyWorld } from '../support/fixtures.js';
import { notifyCase, officialPersonAuth, openCase, scanRide } from '../support/flows.js';
import { confirmedPassenger, createCarrier } from '../support/test-app.js';

const { t, w } = useNotifyWorld();

const logOf = async (auth: string) =>
  (await t.http().get('/v1/passengers/me/access-log').set('authorization', auth).expect(200)).body.items as {
    at: string;
    agency: string;
    purpose: string;
  }[];

describe('access log entries from tracing', () => {
  it('subject, co-passenger and bystander each see what the health authority did with their data', async () => {
    const official = await officialPersonAuth(t, w.tokens.admin, ['tracer', 'notifier']);
    const { code } = await createCarrier(t, w.tokens.operator);
    const subject = await confirmedPassenger(t, 'al-subject', { name: '张三', phone: '13700000001' });
    const contact = await confirmedPassenger(t, 'al-contact', { name: '李四', phone: '13700000002' });
    const bystander = await confirmedPassenger(t, 'al-bystander', { name: '王五', phone: '13700000003' });
    await scanRide(t, subject, code.url);
    await scanRide(t, contact, code.url);
    const c = await openCase(t, official, {
      subject: { phone: '13700000001' },
      caseNumber: 'AL-1',
      reason: 'x',
    });
    expect(c.status).toBe(201);
    // Paging through the exposures twice, and the CSV, is one entry a day for the contact.
    await t.http().get(`/v1/cases/${c.body.id}/exposures`).set('authorization', official).expect(200);
    await t.http().get(`/v1/cases/${c.body.id}/exposures`).set('authorization', official).expect(200);
    await t.http().get(`/v1/cases/${c.body.id}/exposures.csv`).set('authorization', official).expect(200);
    await notifyCase(t, official, c.body.id).expect(200);

    expect((await logOf(subject)).map((e) => [e.purpose, e.agency])).toEqual([
      ['case_investigation', '卫健委'],
    ]);
    expect((await logOf(contact)).map((e) => e.purpose).sort()).toEqual(['contact_tracing', 'notification']);
    expect((await logOf(contact)).every((e) => e.agency === '卫健委')).toBe(true);
    expect(await logOf(bystander)).toEqual([]);
    const text = JSON.stringify(await logOf(contact));
    for (const secret of ['测试官员', 'AL-1', '张三', '13700000001']) expect(text).not.toContain(secret);
  });
});
