const pad = (n: number) => String(n).padStart(2, '0');

/** 2026-11-22 (device time zone; mini-programs lack full Intl support). */
export function formatDate(d: Date | string): string {
  const x = typeof d === 'string' ? new Date(d) : d;
  return `${x.getFullYear()}-${pad(x.getMonth() + 1)}-${pad(x.getDate())}`;
}

/** 08:05 */
export function formatHm(d: Date | string): string {
  const x = typeof d === 'string' ? new Date(d) : d;
  return `${pad(x.getHours())}:${pad(x.getMinutes())}`;
}

/** 08:05:09 */
export function formatHms(d: Date | string): string {
  const x = typeof d === 'string' ? new Date(d) : d;
  return `${formatHm(x)}:${pad(x.getSeconds())}`;
}

/** 2026-11-22 08:05 */
export function formatDateTime(d: Date | string): string {
  return `${formatDate(d)} ${formatHm(d)}`;
}
