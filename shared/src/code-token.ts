/**
 * The carrier code printed on posters is the URL `${PUBLIC_BASE_URL}/C/<token>`.
 * The token is RFC 4648 base32 (upper case, no padding) so that the whole URL, written in upper
 * case, fits QR alphanumeric mode and stays at a low QR version.
 *
 * Token bytes (20): version(1) | keyId(1) | carrierId(4, big endian) | generation(2) | mac(12).
 * The mac is HMAC-SHA256 over the first 8 bytes, truncated to 96 bits; the server holds the keys.
 */
export const CODE_TOKEN_VERSION = 1;
export const CODE_TOKEN_LENGTH = 32;
export const CODE_TOKEN_PATTERN = '^[A-Z2-7]{32}$';

/** Takes a scanned QR content (URL) or a bare token and returns the token, upper-cased; null if neither. */
export function extractCodeToken(scanned: string): string | null {
  const s = scanned.trim();
  const m = /(?:^|\/c\/)([a-z2-7]{32})\/?(?:[?#].*)?$/i.exec(s);
  return m ? m[1]!.toUpperCase() : null;
}
