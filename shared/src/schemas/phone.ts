import { Type, type Static } from '@sinclair/typebox';
import { Strict } from './common.js';
import { Phone } from './rides.js';

export const SuperAppPhoneBodySchema = Type.Object(
  {
    code: Type.String({
      minLength: 1,
      maxLength: 128,
      description: "the code of the mini-program's getPhoneNumber button (one use)",
    }),
  },
  Strict,
);
export type SuperAppPhoneBody = Static<typeof SuperAppPhoneBodySchema>;

export const PhoneCodeRequestSchema = Type.Object({ phone: Phone }, Strict);
export type PhoneCodeRequest = Static<typeof PhoneCodeRequestSchema>;

export const PhoneCodeSentSchema = Type.Object({
  phone: Type.String({ description: 'masked' }),
  expiresIn: Type.Integer({ description: 'seconds the code is valid' }),
  resendIn: Type.Integer({ description: 'seconds before another code can be sent to this phone' }),
});
export type PhoneCodeSent = Static<typeof PhoneCodeSentSchema>;

export const PhoneCodeVerifyBodySchema = Type.Object(
  {
    phone: Phone,
    code: Type.String({ pattern: '^[0-9]{6}$', description: 'the 6-digit code from the SMS' }),
  },
  Strict,
);
export type PhoneCodeVerifyBody = Static<typeof PhoneCodeVerifyBodySchema>;

/** WeChat `requestSubscribeMessage` results for one template. */
export const SUBSCRIPTION_RESULTS = ['accept', 'reject', 'ban', 'filter'] as const;

export const SubscriptionBodySchema = Type.Object(
  {
    templateId: Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'the exposure or the secondary-contact template id (SUPERAPP_*_TEMPLATE_ID of the server)',
    }),
    result: Type.Union(
      SUBSCRIPTION_RESULTS.map((r) => Type.Literal(r)),
      {
        description: 'what the passenger answered requestSubscribeMessage; accept grants one message',
      },
    ),
  },
  Strict,
);
export type SubscriptionBody = Static<typeof SubscriptionBodySchema>;

export const SubscriptionGrantsSchema = Type.Object({
  messageGrants: Type.Integer({ description: 'exposure messages the super-app will still deliver to me' }),
});
export type SubscriptionGrants = Static<typeof SubscriptionGrantsSchema>;
