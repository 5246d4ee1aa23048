/** An official acting through the API: authorisation and the audit entry both name them. */
export interface Official {
  id: string;
  /** May see unmasked identities. */
  reveal: boolean;
  requestId: string;
}
