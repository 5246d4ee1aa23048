/** Whose carriers a request may manage: admins every operator's (null), operators only their own. */
export interface OperatorScope {
  operatorId: string | null;
}

/** An official acting through the API: authorisation and the audit entry both name them. */
export interface Official {
  /** The official person's id, or the machine client's id. */
  id: string;
  /** A person signed in with password and TOTP, or an integration system (client credentials). */
  kind: 'person' | 'system';
  /** Snapshot for the audit entry: the person's name (the system's client name) and agency. */
  name: string;
  agency: string | null;
  /** Cities whose carriers a person may trace; empty: all. */
  jurisdiction: readonly string[];
  /** Holds trace:reveal: may ask for unmasked identities, shown only under a grant for the case. */
  reveal: boolean;
  requestId: string;
}

/**
 * A staff client acting through the API (the account of a driver or conductor, bound to carriers): when it looks
 * up another person, the audit entry names it.
 */
export interface StaffClient {
  /** The client id. */
  id: string;
  /** Snapshot for the audit entry: the client's name and the operator it works for. */
  name: string;
  operatorId: string | null;
  requestId: string;
}

/** The staff client of a request, from its verified token claims. */
export function staffClientOf(
  claims: { sub: string; nm?: string; op?: string },
  requestId: string,
): StaffClient {
  return { id: claims.sub, name: claims.nm ?? claims.sub, operatorId: claims.op ?? null, requestId };
}

/** The agency a passenger's access log names: the person's, or the health system's client name. */
export function agencyOf(who: Official): string {
  return who.agency ?? who.name;
}

/** A signed-in official person as the session check finds them. */
export interface OfficialPerson {
  id: string;
  name: string;
  agency: string;
  jurisdiction: string[];
}
