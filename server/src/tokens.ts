import type { Role } from '@ridetrace/shared';
import { createSigner } from 'fast-jwt';
import { deriveKey, open, seal } from './crypto/aead.js';

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
  /**
   * Passengers: what their rides' blind index is computed from (sealed, see Tokens.sealClaim), so that a scan needs
   * no database read to compute it.
   */
  lk?: string;
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
  private readonly claimKey: Buffer;

  constructor(private readonly secret: Buffer) {
    this.claimKey = deriveKey(secret, 'token-claims');
  }

  /**
   * A claim only the server can read (a JWT payload is plain base64): sealed with a key of its own, bound to the
   * claim's name and the token's subject, so it opens in no other claim or token.
   */
  sealClaim(name: string, sub: string, value: Buffer): string {
    return seal(this.claimKey, value, `token/${name}/${sub}`).toString('base64url');
  }

  /** A sealClaim value opened; null when it does not open (not sealed by this server, or for another subject). */
  openClaim(name: string, sub: string, claim: string): Buffer | null {
    try {
      return open(this.claimKey, Buffer.from(claim, 'base64url'), `token/${name}/${sub}`);
    } catch {
      return null;
    }
  }

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
