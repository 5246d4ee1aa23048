import { describe, expect, it } from 'vitest';
import { CODE_TOKEN_LENGTH, CODE_TOKEN_PATTERN, extractCodeToken } from './code-token.js';

const TOKEN = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

describe('extractCodeToken', () => {
  it('uses a 32-character token', () => {
    expect(TOKEN).toHaveLength(CODE_TOKEN_LENGTH);
    expect(new RegExp(CODE_TOKEN_PATTERN).test(TOKEN)).toBe(true);
  });

  it('takes the token from a poster URL', () => {
    expect(extractCodeToken(`https://rt.example.cn/C/${TOKEN}`)).toBe(TOKEN);
  });

  it('accepts the URL in upper case (QR alphanumeric mode) and lower case', () => {
    expect(extractCodeToken(`HTTPS://RT.EXAMPLE.CN/C/${TOKEN}`)).toBe(TOKEN);
    expect(extractCodeToken(`https://rt.example.cn/c/${TOKEN.toLowerCase()}`)).toBe(TOKEN);
  });

  it('accepts a bare token, upper-casing it', () => {
    expect(extractCodeToken(TOKEN)).toBe(TOKEN);
    expect(extractCodeToken(TOKEN.toLowerCase())).toBe(TOKEN);
    expect(extractCodeToken(`  ${TOKEN}\n`)).toBe(TOKEN);
  });

  it('accepts a trailing slash, a query string and a fragment', () => {
    expect(extractCodeToken(`https://rt.example.cn/C/${TOKEN}/`)).toBe(TOKEN);
    expect(extractCodeToken(`https://rt.example.cn/C/${TOKEN}?from=poster&x=1`)).toBe(TOKEN);
    expect(extractCodeToken(`https://rt.example.cn/C/${TOKEN}/?from=poster`)).toBe(TOKEN);
    expect(extractCodeToken(`https://rt.example.cn/C/${TOKEN}#top`)).toBe(TOKEN);
  });

  it('accepts a base URL with a path prefix', () => {
    expect(extractCodeToken(`https://example.cn/ridetrace/C/${TOKEN}`)).toBe(TOKEN);
  });

  it('returns null for anything else', () => {
    for (const garbage of [
      '',
      'hello',
      'https://rt.example.cn/',
      'https://rt.example.cn/C/',
      `https://rt.example.cn/X/${TOKEN}`,
      `https://rt.example.cn/C/${TOKEN}A`,
      `https://rt.example.cn/C/${TOKEN.slice(1)}`,
      `${TOKEN}A`,
      TOKEN.slice(1),
      'ABCDEFGHIJKLMNOPQRSTUVWXYZ234560', // 0 is not base32
      'ABCDEFGHIJKLMNOPQRSTUVWXYZ234518', // 1 and 8 are not base32
      `https://rt.example.cn/C/${TOKEN}/extra`,
    ]) {
      expect(extractCodeToken(garbage), garbage).toBeNull();
    }
  });
});
