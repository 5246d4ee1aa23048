import {
  ROLE_SCOPES,
  type Client,
  type ClientWithSecret,
  type CreateClientBody,
  type Operator,
} from '@ridetrace/shared';
import { randomBytes } from 'node:crypto';
import type { Official } from '../../actors.js';
import { hashSecret, newSecret, verifySecret } from '../../crypto/secrets.js';
import type { Db } from '../../db/index.js';
import type { ClientRow } from '../../db/tables.js';
import { AppError } from '../../errors.js';
import { appendAudit, auditBy } from '../audit/audit.service.js';
import * as repo from './admin.repository.js';

/**
 * Changes to who may call the API are audited like officials' accounts: an admin through the API (a person or an
 * admin client), or the CLI (`who` null).
 */
async function auditAdmin(
  db: Db,
  who: Official | null,
  action: 'clients.admin' | 'operators.admin',
  facts: Record<string, string | null>,
): Promise<void> {
  await appendAudit(db, {
    ...(who ? auditBy(who) : { actor: 'cli', requestId: null }),
    action,
    caseId: null,
    people: 0,
    facts,
  });
}

export function toClient(row: ClientRow): Client {
  return {
    clientId: row.client_id,
    name: row.name,
    role: row.role,
    scopes: row.scopes,
    operatorId: row.operator_id,
    createdAt: row.created_at.toISOString(),
    disabledAt: row.disabled_at?.toISOString() ?? null,
  };
}

function toOperator(row: { id: string; name: string; created_at: Date }): Operator {
  return { id: row.id, name: row.name, createdAt: row.created_at.toISOString() };
}

export async function createOperator(
  db: Db,
  id: string,
  name: string,
  who: Official | null = null,
): Promise<Operator> {
  const row = await repo.insertOperator(db, id, name);
  if (!row) throw new AppError('operator_exists');
  await auditAdmin(db, who, 'operators.admin', { change: 'create', operator: id });
  return toOperator(row);
}

export async function operatorExists(db: Db, id: string): Promise<boolean> {
  return (await repo.findOperator(db, id)) !== undefined;
}

/** Of `ids`, those naming an existing operator. */
export async function existingOperators(db: Db, ids: readonly string[]): Promise<Set<string>> {
  return new Set(await repo.findOperatorIds(db, ids));
}

/** An enabled or disabled client, or null when the id is unknown. */
export async function findClient(db: Db, clientId: string): Promise<Client | null> {
  const row = await repo.findClient(db, clientId);
  return row ? toClient(row) : null;
}

// Compared against when the client id is unknown, so both failures take the same time.
const dummyHash = hashSecret('dummy-secret-for-constant-time');

/** Client credentials check: the enabled client with this id and secret, or 401 `invalid_client`. */
export async function authenticateClient(db: Db, clientId: string, secret: string): Promise<Client> {
  const row = await repo.findClient(db, clientId);
  const ok = await verifySecret(secret, row?.secret_hash ?? (await dummyHash));
  if (!row || !ok || row.disabled_at) throw new AppError('invalid_client');
  return toClient(row);
}

export async function listOperators(db: Db): Promise<Operator[]> {
  return (await repo.listOperators(db)).map(toOperator);
}

/** Creates an integration client; the secret is returned once and stored only as a hash. */
export async function createClient(
  db: Db,
  body: CreateClientBody,
  who: Official | null = null,
): Promise<ClientWithSecret> {
  const allowed = ROLE_SCOPES[body.role];
  const scopes = body.scopes ?? [...allowed];
  const bad = scopes.filter((s) => !allowed.includes(s));
  if (bad.length) {
    throw new AppError('validation_failed', `role ${body.role} may not hold scope(s): ${bad.join(', ')}`);
  }
  if (scopes.length === 0) throw new AppError('validation_failed', 'a client needs at least one scope');
  const needsOperator = body.role === 'staff' || body.role === 'operator';
  if (needsOperator && !body.operatorId) {
    throw new AppError('validation_failed', `a ${body.role} client needs an operatorId`);
  }
  if (!needsOperator && body.operatorId) {
    throw new AppError('validation_failed', `a ${body.role} client has no operatorId`);
  }
  if (body.operatorId && !(await repo.findOperator(db, body.operatorId)))
    throw new AppError('operator_not_found');
  const clientId = `${body.role}_${randomBytes(9).toString('base64url')}`;
  const clientSecret = newSecret();
  const row = await repo.insertClient(db, {
    client_id: clientId,
    name: body.name,
    role: body.role,
    scopes,
    operator_id: body.operatorId ?? null,
    secret_hash: await hashSecret(clientSecret),
  });
  await auditAdmin(db, who, 'clients.admin', {
    change: 'create',
    client: clientId,
    role: body.role,
    operator: body.operatorId ?? null,
  });
  return { ...toClient(row), clientSecret };
}

export async function listClients(db: Db): Promise<Client[]> {
  return (await repo.listClients(db)).map(toClient);
}

/** The staff accounts (drivers', conductors' devices) of one operator, or of every operator (null). */
export async function listStaffClients(db: Db, operatorId: string | null): Promise<Client[]> {
  return (await repo.listStaffClients(db, operatorId)).map(toClient);
}

export async function disableClient(db: Db, clientId: string, who: Official | null = null): Promise<Client> {
  const row = await repo.updateClient(db, clientId, { disabled_at: new Date() });
  if (!row) throw new AppError('client_not_found');
  await auditAdmin(db, who, 'clients.admin', { change: 'disable', client: clientId });
  return toClient(row);
}

export async function rotateClientSecret(
  db: Db,
  clientId: string,
  who: Official | null = null,
): Promise<ClientWithSecret> {
  const clientSecret = newSecret();
  const row = await repo.updateClient(db, clientId, { secret_hash: await hashSecret(clientSecret) });
  if (!row) throw new AppError('client_not_found');
  await auditAdmin(db, who, 'clients.admin', { change: 'rotate_secret', client: clientId });
  return { ...toClient(row), clientSecret };
}
