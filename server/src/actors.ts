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
  /** May see unmasked identities. */
  reveal: boolean;
  requestId: string;
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
