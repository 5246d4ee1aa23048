import type { Role } from '@ridetrace/shared';
import { createSigner } from 'fast-jwt';

/** Claims of every RideTrace access token. */
export interface TokenClaims {
  /** Passenger id (pseudonym) or client id. */
  sub: string;
  role: Role;
  /** Space-separated scopes. */
  scope: string;
  /** Operator of a staff or operator client. */
  op?: string;
  /** Passengers: the consent version they confirmed (absent before confirmation). */
  cv?: string;
  /** Official persons: the sign-in session; the token dies with it (sign-out, disabled account). */
  sid?: string;
  /** Machine clients: the client's name, for the audit entry. */
  nm?: string;
}

export const TOKEN_ISSUER = 'ridetrace';
export const TOKEN_ALGORITHM = 'HS256';

/** Signs access tokens; the auth plugin verifies them with the same secret, issuer and algorithm. */
export class Tokens {
  private readonly signers = new Map<number, (claims: TokenClaims) => string>();

  constructor(private readonly secret: Buffer) {}

  sign(claims: TokenClaims, ttlSeconds: number): string {
    let signer = this.signers.get(ttlSeconds);
    if (!signer) {
      signer = createSigner({
        key: this.secret,
        algorithm: TOKEN_ALGORITHM,
        iss: TOKEN_ISSUER,
        expiresIn: ttlSeconds * 1000,
      }) as (claims: TokenClaims) => string;
      this.signers.set(ttlSeconds, signer);
    }
    return signer({ ...claims });
  }
}
