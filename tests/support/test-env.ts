/** What every server under test is configured with, in process (test-app.ts) or as a child (reliability). */
import { randomBytes } from 'node:crypto';
import type { FakeSuperApp } from './fake-super-app.js';

/** One master key per test process: every server of the run, restarted ones too, reads the same data keys. */
export const TEST_MASTER_KEY = randomBytes(32).toString('base64');

/** Environment shared by every test server: the test's master key and `superApp` as the login provider. */
export function testServerEnv(superApp: FakeSuperApp): Record<string, string> {
  return {
    RIDETRACE_MASTER_KEY: TEST_MASTER_KEY,
    SUPERAPP_BASE_URL: superApp.baseUrl,
    SUPERAPP_APP_ID: 'wx-test-app',
    SUPERAPP_APP_SECRET: 'test-app-secret',
    // Tests log many passengers in from one IP; the rate-limit tests set their own limits.
    RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
    // A busy CI machine lags; only the load-shedding tests turn event-loop shedding on.
    SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
  };
}
