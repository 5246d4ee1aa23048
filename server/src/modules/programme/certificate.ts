import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { auditKeyId } from '../audit/checkpoints.js';

/** What the database held at one moment: counted before anything is destroyed, and again at the end. */
export interface Census {
  at: string;
  /** Rows per table (rides: all its partitions). */
  tables: Record<string, number>;
  /** Per `table.column` the wind-down clears: rows holding a value there. */
  personalData: Record<string, number>;
  ridePartitions: string[];
  /** Day keys by their id (the ride day). */
  dayKeys: string[];
  systemKeys: string[];
  /** Passengers whose data key (dek_wrapped) exists. */
  passengerKeys: number;
  /** Master keys (outside the database) that wrap any of the keys above. */
  masterKeyIds: string[];
  openCases: number;
  /** Official persons' accounts and health systems' API clients (role official) not disabled. */
  activeOfficials: { persons: number; clients: number };
}

export const CERTIFICATE_KIND = 'ridetrace.destruction-certificate';

/** The facts the certificate states; the signature covers exactly these (canonical JSON). */
export interface DestructionCertificate {
  kind: typeof CERTIFICATE_KIND;
  version: 1;
  deployment: string;
  /** From then on every server refused new personal data. */
  registrationsStoppedAt: string;
  /** When the destruction was complete and the certificate signed. */
  destroyedAt: string;
  by: string;
  tables: Record<string, { fate: 'kept' | 'deleted' | 'keys' | 'partitions'; before: number; after: number }>;
  personalData: Record<string, { before: number; after: number }>;
  keysDestroyed: { dayKeys: string[]; systemKeys: string[]; passengerDataKeys: number };
  keysKept: { systemKeys: string[]; why: string };
  ridePartitionsDropped: string[];
  casesClosed: number;
  /** The health authority's access ends: official persons' accounts and its systems' API clients disabled. */
  accountsDisabled: { officials: number; officialClients: number };
  /** The audit chain's head after the wind-down's own entry (`pnpm audit:verify` checks the chain up to it). */
  auditHead: { seq: number; hash: string };
  /** What only the operator can destroy: the master keys and every backup taken before the wind-down. */
  outsideTheDatabase: { masterKeyIds: string[]; note: string };
}

export interface CertificateSignature {
  algorithm: 'Ed25519';
  /** First 16 hex characters of SHA-256 over the raw public key (as audit checkpoints name keys). */
  keyId: string;
  /** Base64 of the raw 32-byte public key. */
  publicKey: string;
  /** The audit checkpoint signing key, or a key generated for this certificate alone (then thrown away). */
  key: 'audit-signing-key' | 'generated';
  /** Base64 Ed25519 signature over the canonical JSON of `certificate`. */
  value: string;
}

export interface SignedCertificate {
  certificate: DestructionCertificate;
  signature: CertificateSignature;
}

/** JSON with object keys sorted at every level: the same bytes whoever serialises the same facts. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function rawPublicKey(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return Buffer.from(pub.export({ format: 'jwk' }).x ?? '', 'base64url').toString('base64');
}

function publicKeyOfRaw(raw: string): KeyObject {
  const x = Buffer.from(raw, 'base64').toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

export function signCertificate(
  certificate: DestructionCertificate,
  key: KeyObject,
  source: CertificateSignature['key'],
): SignedCertificate {
  return {
    certificate,
    signature: {
      algorithm: 'Ed25519',
      keyId: auditKeyId(key),
      publicKey: rawPublicKey(key),
      key: source,
      value: sign(null, Buffer.from(canonicalJson(certificate)), key).toString('base64'),
    },
  };
}

export interface CertificateCheck {
  ok: boolean;
  keyId: string | null;
  /** Verified with one of the keys given (true), or only with the key the file carries (false: integrity only). */
  trustedKey: boolean;
  problem: 'malformed' | 'unknown_key' | 'signature' | null;
}

/**
 * Checks a certificate file's signature. With `keys` (an auditor's public keys), the key named by the signature's
 * key id must be among them; without, the file's own public key is used, which proves only that nothing changed
 * since someone signed it.
 */
export function verifyCertificate(doc: unknown, keys: readonly KeyObject[]): CertificateCheck {
  const fail = (problem: CertificateCheck['problem'], keyId: string | null = null): CertificateCheck => ({
    ok: false,
    keyId,
    trustedKey: false,
    problem,
  });
  const d = doc as Partial<SignedCertificate> | null;
  const s = d?.signature;
  if (
    !d ||
    typeof d.certificate !== 'object' ||
    d.certificate === null ||
    d.certificate.kind !== CERTIFICATE_KIND ||
    !s ||
    s.algorithm !== 'Ed25519' ||
    typeof s.keyId !== 'string' ||
    typeof s.publicKey !== 'string' ||
    typeof s.value !== 'string'
  )
    return fail('malformed');
  let embedded: KeyObject;
  try {
    embedded = publicKeyOfRaw(s.publicKey);
  } catch {
    return fail('malformed', s.keyId);
  }
  if (auditKeyId(embedded) !== s.keyId) return fail('malformed', s.keyId);
  const given = keys.find((k) => auditKeyId(k) === s.keyId);
  if (keys.length > 0 && !given) return fail('unknown_key', s.keyId);
  const key = given ?? embedded;
  const ok = verify(null, Buffer.from(canonicalJson(d.certificate)), key, Buffer.from(s.value, 'base64'));
  return ok
    ? { ok: true, keyId: s.keyId, trustedKey: given !== undefined, problem: null }
    : fail('signature', s.keyId);
}
