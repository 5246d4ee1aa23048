import { normalizePhone } from './identity.js';

/**
 * Masking for display. A masked value shows just enough for its owner to recognise it:
 * 张三丰 → 张*丰, 张三 → 张*, 13812345678 → 138****5678, ID numbers keep the first and last 4.
 */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length === 0) return '';
  if (chars.length === 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  // Latin names ("Li Lei"): keep first letter of each word.
  if (chars.includes(' ')) {
    return name
      .trim()
      .split(/\s+/)
      .map((w) => (w.length <= 1 ? w : `${Array.from(w)[0]}${'*'.repeat(Array.from(w).length - 1)}`))
      .join(' ');
  }
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

export function maskPhone(phone: string): string {
  const digits = normalizePhone(phone).replace(/[^\d+]/g, '');
  if (digits.length <= 4) return '*'.repeat(digits.length);
  if (digits.length < 8) return `${digits.slice(0, 1)}${'*'.repeat(digits.length - 3)}${digits.slice(-2)}`;
  return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 7)}${digits.slice(-4)}`;
}

export function maskIdNumber(id: string): string {
  const s = id.trim();
  if (s.length <= 8) return '*'.repeat(s.length);
  return `${s.slice(0, 4)}${'*'.repeat(s.length - 8)}${s.slice(-4)}`;
}
