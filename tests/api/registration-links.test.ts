/**
 * A trace reads the registrations of everyone exposed, and the other registrations of the same people, in one
 * statement: prepared (one plan per connection) for the usual few hundred people, planned for its values above
 * that. Both ways must find the same registrations, links and sealed identities.
 */
import { findRegistrationLinks } from '@ridetrace/server/testing';
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { useTestApp } from '../support/fixtures.js';
import { passengerIdOf, seedPersonRegisteredTwice } from '../support/flows.js';
import { seedWorld } from '../support/test-app.js';

const t = useTestApp();

it('a list of thousands and a short list find the same registrations, links and sealed identities', async () => {
  const w = await seedWorld(t);
  const { appAuth } = await seedPersonRegisteredTwice(t, w, {
    carrier: { kind: 'bus', plate: '粤B77001', city: '深圳' },
    subject: { user: 'links-case', name: '王大明', phone: '13900007001' },
    person: { user: 'links-app', name: '吴用', phone: '13900007002' },
    manualMinutesAgo: 19,
    caseNumber: 'C-LINKS',
    reason: 'positive',
  });
  const appId = await passengerIdOf(t, appAuth);
  const manual = await t.db
    .selectFrom('passengers')
    .select('id')
    .where('kind', '=', 'manual')
    .executeTakeFirstOrThrow();

  const short = await findRegistrationLinks(t.db, [manual.id]);
  expect(short.rows.map((r) => [r.id, r.kind, r.deleted])).toEqual([[manual.id, 'manual', false]]);
  // The app registration with the same phone is linked, though it is not on the list.
  expect(short.related.map((r) => [r.id, r.kind])).toEqual([[appId, 'app']]);
  for (const r of [...short.rows, ...short.related]) {
    expect(r.dek_wrapped).toBeInstanceOf(Buffer);
    expect(r.name_sealed).toBeInstanceOf(Buffer);
    expect(r.phone_sealed).toBeInstanceOf(Buffer);
  }

  // 2,000 unknown ids around it: the statement is planned for these values, and the answer is the same.
  const unknown = Array.from({ length: 2000 }, () => randomUUID());
  const long = await findRegistrationLinks(t.db, [
    ...unknown.slice(0, 1000),
    manual.id,
    ...unknown.slice(1000),
  ]);
  expect(long).toEqual(short);
  // Asked a second time (the prepared statement is reused on its connection), still the same.
  expect(await findRegistrationLinks(t.db, [manual.id])).toEqual(short);
});
