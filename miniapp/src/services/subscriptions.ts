import Taro from '@tarojs/taro';
import type { SubscriptionBody } from '@ridetrace/shared';
import { api } from './api';
import { cachedProfile, rememberProfile } from './phone';

/** The super-app template of exposure messages, fixed at build time (.env.[mode]); the server checks it. */
export function exposureTemplateId(): string {
  return process.env.TARO_APP_EXPOSURE_TEMPLATE_ID || 'ridetrace_exposure';
}

/** Exposure messages go through the super-app only in weapp; h5 passengers get an SMS. */
export function canSubscribe(): boolean {
  return process.env.TARO_ENV === 'weapp';
}

const RESULTS: readonly SubscriptionBody['result'][] = ['accept', 'reject', 'ban', 'filter'];

/**
 * Asks the passenger to accept one exposure message and tells the server the answer, once `after` (e.g. the
 * confirmation) has settled. WeChat shows its prompt only inside a user tap: call this synchronously from the tap
 * handler, before any await. Does nothing outside weapp; never rejects: a failure only means the server sends an
 * SMS instead. Resolves to the passenger's grants, or null when nothing was recorded.
 */
export async function askExposureSubscription(after?: Promise<unknown>): Promise<number | null> {
  if (!canSubscribe()) return null;
  const templateId = exposureTemplateId();
  try {
    // Taro's type wants Alipay's entityIds too (a typing slip: either one is enough); WeChat takes tmplIds.
    const option = { tmplIds: [templateId] } as Taro.requestSubscribeMessage.Option;
    // The answer is keyed by template id.
    const res = (await Taro.requestSubscribeMessage(option)) as unknown as Record<string, unknown>;
    const result = RESULTS.find((r) => r === res[templateId]);
    if (!result) return null;
    await after?.catch(() => undefined);
    const { messageGrants } = await api().recordSubscription({ templateId, result });
    // The kept profile (the ride pass reads it) learns the new count.
    const kept = cachedProfile();
    if (kept) rememberProfile({ ...kept, messageGrants });
    return messageGrants;
  } catch {
    return null;
  }
}
