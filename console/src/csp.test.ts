import { describe, expect, it } from 'vitest';
import { cspNonce, nonceNewStyles } from './csp.js';

function page(meta: string): Document {
  return new DOMParser().parseFromString(
    `<!doctype html><html><head>${meta}</head><body></body></html>`,
    'text/html',
  );
}

describe('the CSP nonce', () => {
  it("is read from the meta tag the server filled in, and ignored while it is still Vite's placeholder", () => {
    expect(cspNonce(page('<meta property="csp-nonce" nonce="abc123==">'))).toBe('abc123==');
    expect(cspNonce(page('<meta property="csp-nonce" nonce="__CSP_NONCE__">'))).toBeUndefined();
    expect(cspNonce(page(''))).toBeUndefined();
  });

  it('goes on every style element created afterwards, and on nothing else', () => {
    const doc = page('');
    nonceNewStyles('n0nce', doc);
    expect(doc.createElement('style').getAttribute('nonce')).toBe('n0nce');
    expect(doc.createElement('STYLE').getAttribute('nonce')).toBe('n0nce');
    expect(doc.createElement('div').hasAttribute('nonce')).toBe(false);
  });
});
