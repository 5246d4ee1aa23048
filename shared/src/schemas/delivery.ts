import { Type, type Static } from '@sinclair/typebox';
import { Strict } from './common.js';
import { NOTIFICATION_CHANNELS } from './cases.js';

/** What a gateway reports about one message it accepted: it reached the person's phone, or it never will. */
export const DELIVERY_RECEIPT_STATUSES = ['delivered', 'failed'] as const;

export const DeliveryReceiptChannelParamsSchema = Type.Object(
  {
    channel: Type.Union(
      NOTIFICATION_CHANNELS.map((c) => Type.Literal(c)),
      { description: '`app`: super-app subscribe messages; `sms`: text messages' },
    ),
  },
  Strict,
);
export type DeliveryReceiptChannelParams = Static<typeof DeliveryReceiptChannelParamsSchema>;

export const DeliveryReceiptSchema = Type.Object(
  {
    messageId: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[\\x21-\\x7e]+$',
      description:
        "the provider's id of the message, as its send reply named it (WeChat `msgid`, Tencent SMS `SerialNo`, " +
        "the generic gateway's `messageId`)",
    }),
    status: Type.Union(
      DELIVERY_RECEIPT_STATUSES.map((s) => Type.Literal(s)),
      { description: '`delivered`: reached the phone; `failed`: will not be delivered' },
    ),
    error: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        pattern: '^[^\\u0000-\\u001f\\u007f]+$',
        description:
          "the provider's reason when `failed` (kept as the notification's lastError; digit runs that could be a " +
          'phone number are removed)',
      }),
    ),
  },
  Strict,
);
export type DeliveryReceipt = Static<typeof DeliveryReceiptSchema>;

export const DeliveryReceiptsBodySchema = Type.Object(
  { receipts: Type.Array(DeliveryReceiptSchema, { minItems: 1, maxItems: 1000 }) },
  Strict,
);
export type DeliveryReceiptsBody = Static<typeof DeliveryReceiptsBodySchema>;

export const DeliveryReceiptsResultSchema = Type.Object({
  updated: Type.Integer({ description: 'notifications whose state this batch changed' }),
  ignored: Type.Integer({
    description:
      'receipts that changed nothing: unknown message ids, repeats, notifications already delivered or failed',
  }),
});
export type DeliveryReceiptsResult = Static<typeof DeliveryReceiptsResultSchema>;
