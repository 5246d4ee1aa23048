import Taro from '@tarojs/taro';
import type { SubscriptionBody } from '@ridetrace/shared';
import { api } from './api';
import { cachedProfile, rememberProfile } from './phone';

/** The super-app template of exposure messages, fixed at build time (.env.[mode]); the server checks it. */
export function exposureTemplateId(): string {
  return process.env.TARO_APP_EXPOSURE_TEMPLATE_ID || 'ridetrace_exposure';
}

/** The super-app template of secondary-contact (degree 2) messages, fixed at build time like the exposure one. */
export function secondaryTemplateId(): string {
  return process.env.TARO_APP_SECONDARY_TEMPLATE_ID || 'ridetrace_secondary_exposure';
}

/** Exposure messages go through the super-app only in weapp; h5 passengers get an SMS. */
export function canSubscribe(): boolean {
  return process.env.TARO_ENV === 'weapp';
}

const RESULTS: readonly SubscriptionBody['result'][] = ['accept', 'reject', 'ban', 'filter'];

/**
 * Asks the passenger, in one prompt, to accept one exposure message and one secondary-contact message, and tells the
 * server each answer once `after` (e.g. the confirmation) has settled. WeChat shows its prompt only inside a user tap:
 * call this synchronously from the tap handler, before any await. Does nothing outside weapp; never rejects: a
 * failure only means the server sends an SMS instead. Resolves to the passenger's exposure-message grants, or null
 * when nothing was recorded.
 */
export async function askNoticeSubscriptions(after?: Promise<unknown>): Promise<number | null> {
  if (!canSubscribe()) return null;
  const tmplIds = [...new Set([exposureTemplateId(), secondaryTemplateId()])];
  let res: Record<string, unknown>;
  try {
    // Taro's type wants Alipay's entityIds too (a typing slip: either one is enough); WeChat takes tmplIds.
    const option = { tmplIds } as Taro.requestSubscribeMessage.Option;
    // The answer is keyed by template id.
    res = (await Taro.requestSubscribeMessage(option)) as unknown as Record<string, unknown>;
  } catch {
    return null;
  }
  const answers = tmplIds.flatMap((templateId) => {
    // Accepting with a sound or a vibration reminder is still an acceptance.
    const raw =
      res[templateId] === 'acceptWithAudio' || res[templateId] === 'acceptWithAlert'
        ? 'accept'
        : res[templateId];
    const result = RESULTS.find((r) => r === raw);
    return result ? [{ templateId, result }] : [];
  });
  if (answers.length === 0) return null;
  await after?.catch(() => undefined);
  let grants: number | null = null;
  // One post per answer, the exposure one first: a failed post loses only its own answer.
  for (const answer of answers) {
    try {
      grants = (await api().recordSubscription(answer)).messageGrants;
    } catch {
      // The server sends an SMS for the notice this answer was about.
    }
  }
  // The kept profile (the ride pass reads it) learns the new count.
  const kept = cachedProfile();
  if (kept && grants !== null) rememberProfile({ ...kept, messageGrants: grants });
  return grants;
}
