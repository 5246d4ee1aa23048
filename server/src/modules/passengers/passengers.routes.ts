import {
  ConsentSchema,
  PassengerProfileSchema,
  PhoneCodeRequestSchema,
  PhoneCodeSentSchema,
  PhoneCodeVerifyBodySchema,
  SubscriptionBodySchema,
  SubscriptionGrantsSchema,
  SuperAppPhoneBodySchema,
} from '@ridetrace/shared';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, requireScope } from '../../plugins/auth.js';
import { consentText } from './consent.js';
import { profile, recordSubscription } from './passengers.service.js';
import { sendPhoneCode, verifyPhoneCode, verifyPhoneWithSuperApp } from './phone-verification.js';

export const passengerRoutes: RoutePlugin = async (app, { ctx }) => {
  const common = { tags: ['passengers'], security: bearer };
  const passengerOnly = requireScope('passenger');
  // A stricter per-passenger limit on the verification routes (the OTP service has its own hourly limits).
  const perPassenger = {
    max: 10,
    timeWindow: '1 minute',
    keyGenerator: (req: { user?: { sub?: string }; ip: string }) => `phone:${req.user?.sub ?? req.ip}`,
    hook: 'preHandler' as const,
  };

  app.get('/v1/consent', {
    schema: {
      tags: ['passengers'],
      summary: 'The current consent text and its version (public; a new text is a new version)',
      response: { 200: ConsentSchema },
    },
    handler: async () => consentText(ctx.config),
  });

  app.get('/v1/passengers/me', {
    onRequest: passengerOnly,
    schema: {
      ...common,
      summary: 'My profile (masked), with how my phone is verified',
      response: { 200: PassengerProfileSchema, ...errorReplies(401, 403, 404) },
    },
    handler: async (req) => profile(ctx, req.user.sub),
  });

  app.post('/v1/passengers/me/phone', {
    onRequest: passengerOnly,
    config: { rateLimit: perPassenger },
    schema: {
      ...common,
      summary: "Verify my phone through the super-app (the getPhoneNumber button's code)",
      body: SuperAppPhoneBodySchema,
      response: { 200: PassengerProfileSchema, ...errorReplies(400, 401, 403, 404, 429, 503) },
    },
    handler: async (req) => verifyPhoneWithSuperApp(ctx, req.user.sub, req.body.code),
  });

  app.post('/v1/passengers/me/phone/otp', {
    onRequest: passengerOnly,
    config: { rateLimit: perPassenger },
    schema: {
      ...common,
      summary: 'Send a 6-digit SMS code to verify a typed phone (10 minutes, 5 attempts)',
      body: PhoneCodeRequestSchema,
      response: { 200: PhoneCodeSentSchema, ...errorReplies(400, 401, 403, 404, 429, 503) },
    },
    handler: async (req) => sendPhoneCode(ctx, req.user.sub, req.body.phone, req.ip),
  });

  app.post('/v1/passengers/me/phone/verify', {
    onRequest: passengerOnly,
    config: { rateLimit: perPassenger },
    schema: {
      ...common,
      summary: 'Check the SMS code: the phone becomes verified (otp)',
      body: PhoneCodeVerifyBodySchema,
      response: { 200: PassengerProfileSchema, ...errorReplies(400, 401, 403, 404, 429) },
    },
    handler: async (req) => verifyPhoneCode(ctx, req.user.sub, req.body.phone, req.body.code),
  });

  app.post('/v1/passengers/me/subscriptions', {
    onRequest: passengerOnly,
    config: { rateLimit: perPassenger },
    schema: {
      ...common,
      summary:
        'Record my answer to a notice subscription request (exposure template accepted: one more message)',
      description:
        'The mini-program asks for the exposure and the secondary-contact template together and posts each answer. ' +
        '`messageGrants` counts accepted exposure messages not used yet; the super-app counts the secondary ' +
        "template's own (a degree-2 message without one goes by SMS). Any other template: 400 validation_failed.",
      body: SubscriptionBodySchema,
      response: { 200: SubscriptionGrantsSchema, ...errorReplies(400, 401, 403, 404, 429) },
    },
    handler: async (req) => recordSubscription(ctx, req.user.sub, req.body),
  });
};
