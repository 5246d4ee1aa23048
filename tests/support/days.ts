/**
 * Ride days as the tests expect them, computed independently of the server: test apps run with the default
 * TIME_ZONE, Asia/Shanghai (UTC+8 all year, no daylight saving).
 */
export const TEST_TIME_ZONE = 'Asia/Shanghai';
const OFFSET_MS = 8 * 3600_000;

/** The local (UTC+8) calendar day of an instant. */
export const localDay = (d: Date | number): string =>
  new Date(new Date(d).getTime() + OFFSET_MS).toISOString().slice(0, 10);

/** The instant a local calendar day starts. */
export const localMidnight = (day: string): Date => new Date(`${day}T00:00:00+08:00`);
