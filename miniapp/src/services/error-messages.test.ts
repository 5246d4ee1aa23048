import { ERRORS } from '@ridetrace/shared';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_ERROR_MESSAGES,
  SERVER_ERROR_MESSAGES,
  errorMessage,
  isKnownErrorCode,
} from './error-messages';

describe('error messages', () => {
  // The typecheck already fails on a missing code (satisfies Record<ErrorCode, …>); this guards the runtime table.
  it('has a Chinese and an English message for every server error code and nothing else', () => {
    expect(Object.keys(SERVER_ERROR_MESSAGES).sort()).toEqual(Object.keys(ERRORS).sort());
    for (const m of [...Object.values(SERVER_ERROR_MESSAGES), ...Object.values(CLIENT_ERROR_MESSAGES)]) {
      expect(m['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
      expect(m.en).toMatch(/^[A-Z]/);
    }
  });

  it('picks the language and recognises codes', () => {
    expect(errorMessage('code_revoked', 'en')).toContain('revoked');
    expect(errorMessage('network_error', 'zh-CN')).toContain('网络不可用');
    expect(isKnownErrorCode('rate_limited')).toBe(true);
    expect(isKnownErrorCode('toString')).toBe(false);
    expect(isKnownErrorCode(42)).toBe(false);
  });
});
