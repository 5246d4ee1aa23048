import { DeliveryError, type ExposureMessage } from '@ridetrace/server';
import { expect } from 'vitest';

/** The exposure notice the adapter tests send: an 08:30 bus ride in Shenzhen, observed until 5 December. */
export const SAMPLE_EXPOSURE: ExposureMessage = {
  plate: '粤B12345',
  kind: 'bus',
  route: '36路',
  boardedAt: new Date('2026-11-21T00:30:00Z'),
  observeUntil: new Date('2026-12-05T15:59:00Z'),
};

/** `p` rejects with a DeliveryError; its message and whether the worker would retry. */
export async function deliveryFailure(p: Promise<unknown>): Promise<{ message: string; retryable: boolean }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  const e = err as DeliveryError;
  return { message: e.message, retryable: e.retryable };
}
