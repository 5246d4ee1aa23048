import {
  maskName,
  maskPhone,
  normalizePhone,
  type ConfirmBody,
  type IdType,
  type MaskedIdentity,
  type PassengerProfile,
  type SubscriptionBody,
  type SubscriptionGrants,
} from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../context.js';
import type { Db } from '../../db/index.js';
import type { PassengerRow, SealedIdentity } from '../../db/tables.js';
import { AppError } from '../../errors.js';
import { decodeRideLink, encodeRideLink, type RideLink } from '../rides/ride-key.js';
import {
  assertValidIdDocument,
  type Identity,
  identityIndexes,
  indexInputsOf,
  maskIdentity,
  newLinkSecret,
  newPassengerKey,
  openContact,
  openIdentity,
  openPending,
  passengerKey,
  rideLinkOfRow,
  sealIdentity,
  sealOpenId,
  sealPending,
  subjectIndexInput,
} from './identity.js';
import * as repo from './passengers.repository.js';

export type { RegistrationLink } from './passengers.repository.js';

/**
 * Brings this process's blind-index key generations up to date (a database read at most every
 * INDEX_KEYS_MAX_AGE_SECONDS): every path that writes or looks up an identity index calls it first. `db`: the
 * caller's transaction when it holds one (no second connection needed).
 */
export async function syncIndexKeys(ctx: AppContext, db: Db = ctx.db): Promise<void> {
  await ctx.keyring.syncIndexKeys(db, ctx.now(), ctx.config.indexKeysMaxAgeSeconds * 1000);
}

/** A scan made before the passenger confirmed, kept sealed with their key until they do. */
export interface PendingScan {
  carrierId: number;
  generation: number;
  clientRideId: string;
  boardedAt: string;
  receivedAt: string;
  source: 'scan' | 'offline';
  late: boolean;
}

/** The passenger's own account; their token is worth nothing once it is deleted (401). */
async function mustFind(ctx: AppContext, id: string): Promise<PassengerRow> {
  const row = await repo.findPassenger(ctx.db, id);
  if (!row || !row.dek_wrapped || row.deleted_at) throw accountDeleted();
  return row;
}

function accountDeleted(): AppError {
  return new AppError('token_invalid', 'This account was deleted; sign in again.');
}

const LINK_CLAIM = 'lk';

/** The `lk` claim of the passenger's tokens: their ride link, sealed for the server alone. */
function rideLinkClaim(ctx: AppContext, link: RideLink): string {
  return ctx.tokens.sealClaim(LINK_CLAIM, link.passengerId, encodeRideLink(link));
}

/** The ride link of a live registration; null when it is deleted or unknown. */
export async function rideLinkOf(db: Db, passengerId: string): Promise<RideLink | null> {
  const [row] = await repo.findRideLinks(db, [passengerId]);
  return row ? rideLinkOfRow(row) : null;
}

/** The ride links of the live registrations among `ids` (deleted ones have none: their rides stay unfound). */
export async function rideLinksOf(ctx: AppContext, ids: readonly string[]): Promise<RideLink[]> {
  const rows = await repo.findRideLinks(ctx.db, [...new Set(ids)]);
  return rows.map(rideLinkOfRow).filter((l): l is RideLink => l !== null);
}

/**
 * The ride link of a scan: from the token's `lk` claim, without a database read; a token issued without one is
 * answered from the account (401 once it is deleted).
 */
export async function rideLinkOfToken(
  ctx: AppContext,
  passengerId: string,
  claim: string | undefined,
): Promise<RideLink> {
  if (claim === undefined) {
    const link = await rideLinkOf(ctx.db, passengerId);
    if (!link) throw accountDeleted();
    return link;
  }
  const bytes = ctx.tokens.openClaim(LINK_CLAIM, passengerId, claim);
  const link = bytes && decodeRideLink(passengerId, bytes);
  if (!link) throw new AppError('token_invalid');
  return link;
}

function confirmedRow(ctx: AppContext, row: PassengerRow): boolean {
  return row.name_sealed !== null && row.consent_version === ctx.config.consentVersion;
}

export async function isConfirmed(ctx: AppContext, passengerId: string): Promise<boolean> {
  return confirmedRow(ctx, await mustFind(ctx, passengerId));
}

export async function scanPreviewIdentity(ctx: AppContext, passengerId: string): Promise<MaskedIdentity> {
  return maskIdentity(openIdentity(ctx.keyring, await mustFind(ctx, passengerId)));
}

export async function savePendingScan(
  ctx: AppContext,
  passengerId: string,
  pending: PendingScan,
): Promise<void> {
  const row = await mustFind(ctx, passengerId);
  const dek = passengerKey(ctx.keyring, row)!;
  await repo.updatePassenger(ctx.db, passengerId, { pending_sealed: sealPending(dek, passengerId, pending) });
}

/** Verified phones link registrations and receive SMS; typed ones (`self`) do neither. */
export function isVerifiedPhone(source: PassengerRow['phone_source']): boolean {
  return source !== null && source !== 'self';
}

export function toProfile(ctx: AppContext, row: PassengerRow): PassengerProfile {
  const who = openIdentity(ctx.keyring, row);
  // A phone verified before the first confirmation is shown (masked) without a name.
  const phone = who?.phone ?? openContact(ctx.keyring, row, 'sms');
  return {
    id: row.id,
    confirmed: confirmedRow(ctx, row),
    name: who ? maskName(who.name) : null,
    phone: phone === null ? null : maskPhone(phone),
    phoneVerified: isVerifiedPhone(row.phone_source),
    phoneSource: row.phone_source,
    messageGrants: row.message_grants,
    hasIdNumber: row.id_number_sealed !== null,
    consentVersion: row.consent_version,
    consentedAt: row.consented_at?.toISOString() ?? null,
  };
}

export async function profile(ctx: AppContext, passengerId: string): Promise<PassengerProfile> {
  return toProfile(ctx, await mustFind(ctx, passengerId));
}

/**
 * First-time confirmation of identity and consent, in the caller's transaction: stores the identity (sealed, with
 * blind indexes) and the consent, and hands back the scan that was waiting for it (taken out of the row).
 */
export async function confirmIdentity(
  ctx: AppContext,
  tx: Db,
  passengerId: string,
  body: ConfirmBody,
): Promise<{ passenger: PassengerProfile; pending: PendingScan | null; link: RideLink; linkClaim: string }> {
  if (body.consentVersion !== ctx.config.consentVersion) throw new AppError('consent_version_outdated');
  assertValidIdDocument(body);
  await syncIndexKeys(ctx, tx);
  const row = await repo.findPassengerForUpdate(tx, passengerId);
  const link = row && row.dek_wrapped ? rideLinkOfRow(row) : null;
  if (!row || !link) throw accountDeleted();
  const dek = passengerKey(ctx.keyring, row)!;
  const pending = openPending<PendingScan>(dek, row);
  // The phone stays verified only when it is the verified one on file; any other typed phone is the passenger's claim.
  const verified = isVerifiedPhone(row.phone_source) ? openContact(ctx.keyring, row, 'sms') : null;
  const phone = body.phone ?? verified;
  if (phone === null) throw new AppError('phone_required');
  const samePhone = verified !== null && verified === normalizePhone(phone);
  const updated = await repo.updatePassenger(tx, passengerId, {
    ...sealIdentity(ctx.keyring, dek, passengerId, { ...body, phone }),
    // The subject index is not rewritten: the row is only as new as the older of its indexes.
    index_generation: Math.min(row.index_generation, ctx.keyring.indexGeneration),
    phone_source: samePhone ? row.phone_source : 'self',
    id_source: body.idNumber ? 'self' : null,
    consent_version: body.consentVersion,
    consented_at: ctx.now(),
    pending_sealed: null,
  });
  return { passenger: toProfile(ctx, updated), pending, link, linkClaim: rideLinkClaim(ctx, link) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether the account exists and was not deleted: the passenger's tokens are worth nothing once it is. Checked on
 * every passenger request but the scan, whose one INSERT checks it itself.
 */
export async function isActivePassenger(db: Db, passengerId: string): Promise<boolean> {
  return UUID.test(passengerId) && repo.isLivePassenger(db, passengerId);
}

/**
 * The passenger pseudonym of a super-app user, created on first login; keeps the super-app user id (sealed) so
 * the person can get super-app messages.
 */
export async function passengerOfSuperAppUser(
  ctx: AppContext,
  provider: string,
  openId: string,
): Promise<{ id: string; confirmed: boolean; linkClaim: string }> {
  await syncIndexKeys(ctx);
  const input = subjectIndexInput(provider, openId);
  const subjects = ctx.keyring.blindIndexes('subject', input);
  let row = await repo.findPassengerBySubject(ctx.db, subjects);
  if (!row) {
    const id = randomUUID();
    const key = newPassengerKey(ctx.keyring, id);
    const insert = (db: Db) =>
      repo.insertPassengerIfMissing(db, {
        id,
        kind: 'app',
        subject_index: ctx.keyring.blindIndex('subject', input),
        index_generation: ctx.keyring.indexGeneration,
        ...key.columns,
        link_secret: newLinkSecret(),
      });
    if (subjects.length === 1) await insert(ctx.db);
    else {
      // Lock on the index under the newest generation, which every process in a rotation computes alike.
      const newest = Math.max(...ctx.keyring.indexGenerations);
      await ctx.db.transaction().execute(async (tx) => {
        await repo.lockSubject(tx, ctx.keyring.blindIndexAt(newest, 'subject', input)!);
        if (!(await repo.findPassengerBySubject(tx, subjects))) await insert(tx);
      });
    }
    row = await repo.findPassengerBySubject(ctx.db, subjects);
    if (!row) throw new Error('passenger vanished after insert');
  }
  await rememberOpenId(ctx, row, openId);
  // A row found by its subject index is live: deletion clears the index.
  const link = rideLinkOfRow(row) ?? { passengerId: row.id, secret: null, since: null };
  return { id: row.id, confirmed: confirmedRow(ctx, row), linkClaim: rideLinkClaim(ctx, link) };
}

/**
 * The person a staff member registers: an existing passenger with the same phone or ID number
 * (blind index match), otherwise a new manual rider whose identity is sealed like a passenger's.
 */
export async function findOrCreateRider(
  ctx: AppContext,
  who: { name: string; phone: string; idNumber?: string | undefined },
): Promise<{ id: string; matched: boolean; identity: MaskedIdentity; link: RideLink }> {
  assertValidIdDocument(who);
  await syncIndexKeys(ctx);
  const idx = lookupIndexes(ctx, who);
  const existing = await repo.findPassengerByIndex(ctx.db, idx.phones, idx.idNumbers);
  const existingLink = existing && rideLinkOfRow(existing);
  if (existing && existingLink) {
    return {
      id: existing.id,
      matched: true,
      identity: maskIdentity(openIdentity(ctx.keyring, existing)),
      link: existingLink,
    };
  }
  const id = randomUUID();
  const key = newPassengerKey(ctx.keyring, id);
  const secret = newLinkSecret();
  await repo.insertPassenger(ctx.db, {
    id,
    kind: 'manual',
    ...key.columns,
    ...sealIdentity(ctx.keyring, key.dek, id, who),
    index_generation: ctx.keyring.indexGeneration,
    // Staff registered the rider in person from their document.
    phone_source: 'staff',
    id_source: who.idNumber ? 'staff' : null,
    link_secret: secret,
  });
  return {
    id,
    matched: false,
    identity: maskIdentity(who),
    link: { passengerId: id, secret, since: null },
  };
}

export async function findPassengersByIds(ctx: AppContext, ids: string[]): Promise<PassengerRow[]> {
  return repo.findPassengersByIds(ctx.db, ids);
}

/** The sealed identities of these passengers (only the columns that open them). */
export async function findSealedIdentities(ctx: AppContext, ids: string[]): Promise<SealedIdentity[]> {
  return repo.findSealedIdentities(ctx.db, ids);
}

/**
 * The registrations with these ids, and the other registrations of the same people (one query, narrow rows). While
 * a key rotation runs, two registrations of one person may hold indexes of different generations: the related ones
 * are then found by the indexes of every generation, and every row carries its indexes under the current one (so
 * that rows of one person compare equal).
 */
export async function findRegistrationLinks(
  ctx: AppContext,
  ids: string[],
): Promise<{ rows: repo.RegistrationLink[]; related: repo.RegistrationLink[] }> {
  await syncIndexKeys(ctx);
  const found = await repo.findRegistrationLinks(ctx.db, ids);
  if (ctx.keyring.indexGenerations.length === 1) return found;
  const phones: Buffer[] = [];
  const idNumbers: Buffer[] = [];
  const rows = found.rows.map((row) => {
    const current = withCurrentIndexes(ctx, row);
    if (current.phoneInput) phones.push(...ctx.keyring.blindIndexes('phone', current.phoneInput));
    if (current.idNumberInput)
      idNumbers.push(...ctx.keyring.blindIndexes('id-number', current.idNumberInput));
    return current.row;
  });
  const related = await repo.findRelatedRegistrations(ctx.db, ids, phones, idNumbers);
  return { rows, related: related.map((row) => withCurrentIndexes(ctx, row).row) };
}

/**
 * A registration link with its verified indexes recomputed under the current generation, and what they were
 * computed from (null where the row has no verified index).
 */
function withCurrentIndexes(ctx: AppContext, row: repo.RegistrationLink) {
  const inputs = indexInputsOf(ctx.keyring, row);
  const phoneInput = row.phone_index ? inputs.phone : null;
  const idNumberInput = row.id_number_index ? inputs.idNumber : null;
  return {
    row: {
      ...row,
      phone_index: phoneInput ? ctx.keyring.blindIndex('phone', phoneInput) : row.phone_index,
      id_number_index: idNumberInput
        ? ctx.keyring.blindIndex('id-number', idNumberInput)
        : row.id_number_index,
    },
    phoneInput,
    idNumberInput,
  };
}

/** The indexes a lookup by phone and ID document matches: one per key generation in use. */
function lookupIndexes(ctx: AppContext, who: Pick<Identity, 'phone' | 'idType' | 'idNumber'>) {
  const phones: Buffer[] = [];
  const idNumbers: Buffer[] = [];
  for (const g of ctx.keyring.indexGenerations) {
    const idx = identityIndexes(ctx.keyring, who, g);
    phones.push(idx.phone_index);
    if (idx.id_number_index) idNumbers.push(idx.id_number_index);
  }
  return { phones, idNumbers };
}

/**
 * Every registration of the person a case names. By phone or ID number: the registrations verified for it (phone
 * verified by the super-app, a one-time code or staff; ID document seen by staff), and those sharing a verified
 * phone or ID with them; registrations that only typed it are `claims`, never the subject. By passenger id: that
 * registration (the official's explicit choice) and its verified links.
 */
export async function findSubjectPassengers(
  ctx: AppContext,
  subject: { phone?: string; idType?: IdType; idNumber?: string; passengerId?: string },
): Promise<{ subjects: { id: string }[]; claims: { id: string }[] }> {
  let found: { id: string }[];
  let claims: { id: string }[] = [];
  if (subject.passengerId) {
    const row = await repo.findPassenger(ctx.db, subject.passengerId);
    found = row && row.dek_wrapped ? [row] : [];
  } else {
    if (subject.idNumber !== undefined) assertValidIdDocument(subject);
    await syncIndexKeys(ctx);
    const idx = lookupIndexes(ctx, {
      phone: subject.phone ?? '',
      idType: subject.idType,
      idNumber: subject.idNumber,
    });
    const phones = subject.phone ? idx.phones : [];
    const ids = idx.idNumbers;
    found = await repo.findPassengersByIndex(ctx.db, phones, ids, 'verified');
    claims = await repo.findPassengersByIndex(ctx.db, phones, ids, 'claimed');
  }
  // Follow shared phone / ID number indexes until no new registration turns up (a handful at most).
  for (let round = 0; round < 4 && found.length > 0; round++) {
    const { related: added } = await findRegistrationLinks(
      ctx,
      found.map((r) => r.id),
    );
    if (added.length === 0) break;
    found = [...found, ...added];
  }
  const subjectIds = new Set(found.map((r) => r.id));
  return {
    subjects: found.map((r) => ({ id: r.id })),
    claims: claims.filter((r) => !subjectIds.has(r.id)).map((r) => ({ id: r.id })),
  };
}

/**
 * Where to reach a person on one channel (super-app user id or verified phone), decrypted for the notification sender
 * only; null when the person has none (a typed phone receives no SMS) or was deleted. The worker reads the rows of a whole batch at once
 * (`findPassengersByIds`).
 */
export function contactAddress(
  ctx: AppContext,
  row: PassengerRow | undefined,
  channel: 'app' | 'sms',
): string | null {
  if (!row || (channel === 'sms' && !isVerifiedPhone(row.phone_source))) return null;
  return openContact(ctx.keyring, row, channel);
}

async function rememberOpenId(ctx: AppContext, row: PassengerRow, openId: string): Promise<void> {
  if (row.openid_sealed) return;
  const dek = passengerKey(ctx.keyring, row);
  if (!dek) return;
  await repo.updatePassenger(ctx.db, row.id, { openid_sealed: sealOpenId(dek, row.id, openId) });
}

/**
 * Account deletion: the passenger's data key and every sealed or indexed field go, consent is withdrawn, and the
 * super-app link is cut (a later login starts a new pseudonym). The pseudonymous id stays as a tombstone, so rides
 * stay countable, but nothing links them to a person any more: the link secret their blind index was computed
 * from goes too, so not even the id finds them.
 */
export async function deleteAccount(ctx: AppContext, passengerId: string): Promise<void> {
  await ctx.db.transaction().execute(async (tx) => {
    const row = await repo.findPassengerForUpdate(tx, passengerId);
    if (!row || row.deleted_at) throw new AppError('passenger_not_found');
    await repo.updatePassenger(tx, passengerId, {
      subject_index: null,
      dek_master_key_id: null,
      dek_wrapped: null,
      name_sealed: null,
      phone_sealed: null,
      id_number_sealed: null,
      id_type: null,
      phone_index: null,
      id_number_index: null,
      openid_sealed: null,
      pending_sealed: null,
      phone_source: null,
      id_source: null,
      message_grants: 0,
      consent_version: null,
      consented_at: null,
      link_secret: null,
      link_since: null,
      deleted_at: ctx.now(),
    });
  });
}

/** Everything held about the passenger, decrypted for them alone (right of access). */
export async function identityForExport(ctx: AppContext, passengerId: string) {
  const row = await mustFind(ctx, passengerId);
  const who = openIdentity(ctx.keyring, row);
  return {
    id: row.id,
    registration: row.kind,
    name: who?.name ?? null,
    phone: who?.phone ?? null,
    idNumber: who?.idNumber ?? null,
    idType: who?.idNumber ? (who.idType ?? null) : null,
    superAppLinked: row.openid_sealed !== null,
    consentVersion: row.consent_version,
    consentedAt: row.consented_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * The passenger answered the super-app's subscription request for one of the two notice templates. An accepted
 * exposure template lets the super-app deliver one more exposure message: `messageGrants` counts those only, as only
 * degree-1 notices use them up. The secondary-contact template's grants are the super-app's to count: a degree-2
 * message without one is refused there and goes by SMS, so its answers change nothing here.
 */
export async function recordSubscription(
  ctx: AppContext,
  passengerId: string,
  body: SubscriptionBody,
): Promise<SubscriptionGrants> {
  const { exposureTemplateId, secondaryTemplateId } = ctx.config.superApp;
  if (body.templateId !== exposureTemplateId && body.templateId !== secondaryTemplateId)
    throw new AppError('validation_failed', 'templateId is not one of the notice templates.');
  if (body.result !== 'accept' || body.templateId !== exposureTemplateId)
    return { messageGrants: (await mustFind(ctx, passengerId)).message_grants };
  const grants = await repo.addMessageGrant(ctx.db, passengerId);
  if (grants === null) throw new AppError('passenger_not_found');
  return { messageGrants: grants };
}

/**
 * A super-app message needs an accepted subscription: one is used per message, and given back when the message
 * could not be delivered for a passing reason (the worker retries).
 */
export function takeMessageGrant(ctx: AppContext, passengerId: string): Promise<boolean> {
  return repo.takeMessageGrant(ctx.db, passengerId);
}

export function returnMessageGrant(ctx: AppContext, passengerId: string): Promise<void> {
  return repo.returnMessageGrant(ctx.db, passengerId);
}
