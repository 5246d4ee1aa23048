/** Whose carriers a request may manage: admins every operator's (null), operators only their own. */
export interface OperatorScope {
  operatorId: string | null;
}

/** An official acting through the API: authorisation and the audit entry both name them. */
export interface Official {
  id: string;
  /** May see unmasked identities. */
  reveal: boolean;
  requestId: string;
}
