/** Renew the 60-second status token this long before it expires; never wait longer than 50 s. */
const RENEW_BEFORE_MS = 10_000;
const MAX_WAIT_MS = 50_000;
export const MIN_WAIT_MS = 5_000;

/** How long to show a status token before fetching the next (a wrong phone clock is capped both ways). */
export function renewDelay(expiresAt: string, now = Date.now()): number {
  return Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, Date.parse(expiresAt) - now - RENEW_BEFORE_MS));
}
