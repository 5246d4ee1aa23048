import { expect, it } from 'vitest';
import { useNotifyWorld } from '../support/fixtures.js';
import { grantReveal, notifyCase, openCase, scanRide, waitFor } from '../support/flows.js';
import { confirmedPassenger, createCarrier } from '../support/test-app.js';

const { t, w, msg } = useNotifyWorld(
  { NOTIFY_BACKOFF_BASE_MS: '20', NOTIFY_POLL_MS: '50' },
  { failFirst: 1 },
);

it('case → exposures → notify → yellow; audit chain intact', async () => {
  const { code } = await createCarrier(t, w.tokens.operator);
  const caseAuth = await confirmedPassenger(t, 'case', { name: '王小明', phone: '13900000001' });
  const contactAuth = await confirmedPassenger(t, 'contact', { name: '李四', phone: '13900000002' });
  const strangerAuth = await confirmedPassenger(t, 'stranger', { name: '赵六', phone: '13900000003' });
  await scanRide(t, caseAuth, code.url);
  await scanRide(t, contactAuth, code.url);
  const longAgo = new Date(Date.now() - 3 * 3600_000).toISOString();
  await scanRide(t, strangerAuth, code.url, longAgo);

  const c = await openCase(t, w.tokens.official, {
    subject: { phone: '13900000001' },
    caseNumber: 'C-1',
    reason: 'positive test',
  });
  expect(c.status).toBe(201);
  await grantReveal(t, w.tokens.official, c.body.id);
  const ex = await t
    .http()
    .get(`/v1/cases/${c.body.id}/exposures?reveal=true`)
    .set('authorization', w.tokens.official);
  expect(ex.status).toBe(200);
  expect(ex.body.total).toBe(1);
  expect(ex.body.items[0]).toMatchObject({ name: '李四', phone: '13900000002', level: 'close', degree: 1 });

  const csv = await t
    .http()
    .get(`/v1/cases/${c.body.id}/exposures.csv`)
    .set('authorization', w.tokens.official);
  expect(csv.status).toBe(200);
  expect(csv.text.startsWith('\uFEFF')).toBe(true);

  const n = await notifyCase(t, w.tokens.official, c.body.id).expect(200);
  expect(n.body).toMatchObject({ exposed: 1, queued: 1 });
  const again = await notifyCase(t, w.tokens.official, c.body.id).expect(200);
  expect(again.body.queued).toBe(0);
  await waitFor(
    () => t.http().get(`/v1/cases/${c.body.id}/notifications`).set('authorization', w.tokens.official),
    (s) => s.body.summary.sent === 1,
    5_000,
  );
  expect(msg.received).toHaveLength(1);
  const st = await t.http().get('/v1/passengers/me/status').set('authorization', contactAuth).expect(200);
  expect(st.body.colour).toBe('yellow');
  const red = await t.http().get('/v1/passengers/me/status').set('authorization', caseAuth).expect(200);
  expect(red.body.colour).toBe('red');
  const inbox = await t
    .http()
    .get('/v1/passengers/me/notifications')
    .set('authorization', contactAuth)
    .expect(200);
  expect(inbox.body.items).toHaveLength(1);
  const audit = await t.http().get('/v1/audit').set('authorization', w.tokens.admin).expect(200);
  const actions = audit.body.items.map((e: { action: string }) => e.action) as string[];
  // Polling the delivery state is audited too (notifications.read, as often as it was polled).
  expect(actions).toContain('notifications.read');
  // The world's seed (operators and clients created) comes first: `clients.admin`, `operators.admin`.
  const traced = actions.filter((a) => !/^(clients|operators)\.admin$/.test(a));
  expect(traced.filter((a) => a !== 'notifications.read')).toEqual([
    'case.open',
    'reveal.grant',
    'exposures.reveal',
    'exposures.export',
    'case.notify',
    'case.notify',
  ]);
});
