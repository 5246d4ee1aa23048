import { DEFAULT_ID_TYPE, normaliseIdNumber, normalizePhone, type IdType } from './identity.js';

/**
 * Masking for display. A masked value shows just enough for its owner to recognise it:
 * 张三丰 → 张*丰, 张三 → 张*, 13812345678 → 138****5678, ID numbers as `maskIdNumber` says.
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

/** Keeps `head` and `tail` characters while at least half stay masked; otherwise masks all of them. */
function keepEnds(s: string, head: number, tail: number): string {
  const masked = s.length - head - tail;
  if (masked < Math.ceil(s.length / 2)) return '*'.repeat(s.length);
  return `${s.slice(0, head)}${'*'.repeat(masked)}${tail > 0 ? s.slice(-tail) : ''}`;
}

/**
 * An ID number masked by its type (one argument: a resident ID card). Resident ID cards and 18-character permanent
 * residence cards keep the first and last 4 (1101**********4477, as always); 15-character residence cards their
 * nationality letters and last 4 (USA********1234); permits their H/M letter and last 3 (H*****678, *****678);
 * passports the first and last 2 (E1*****78; under 8 characters the last 2). At least half is always masked.
 */
export function maskIdNumber(id: string): string;
export function maskIdNumber(type: IdType, id: string): string;
export function maskIdNumber(typeOrId: string, id?: string): string {
  if (id === undefined) return maskResidentId(typeOrId);
  const type = typeOrId as IdType;
  if (type === DEFAULT_ID_TYPE) return maskResidentId(id);
  const s = normaliseIdNumber(type, id);
  switch (type) {
    case 'foreign_pr':
      return s.length === 15 ? keepEnds(s, 3, 4) : maskResidentId(s);
    case 'hk_mo_permit':
      return keepEnds(s, 1, 3);
    case 'tw_permit':
      return keepEnds(s, 0, 3);
    case 'passport':
      return s.length >= 8 ? keepEnds(s, 2, 2) : keepEnds(s, 0, 2);
    default:
      return '*'.repeat(s.length);
  }
}

/** The resident ID card mask: first and last 4 characters (8 or fewer: all masked). */
function maskResidentId(id: string): string {
  const s = id.trim();
  if (s.length <= 8) return '*'.repeat(s.length);
  return `${s.slice(0, 4)}${'*'.repeat(s.length - 8)}${s.slice(-4)}`;
}
