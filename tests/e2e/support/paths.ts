import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const MINIAPP = path.join(ROOT, 'miniapp');
/** Screenshots of the mini-program e2e run (gitignored). */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e');
/** Screenshots of the console e2e run (gitignored). */
export const CONSOLE_ARTIFACTS = path.join(ROOT, 'test-artifacts', 'console');
