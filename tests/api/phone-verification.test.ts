/**
 * A passenger proves a phone through the super-app's phone-number button or an SMS one-time code; only then does it
 * count as verified (links registrations, receives SMS).
 */
import { describe, expect, it } from 'vitest';
import { useNotifyWorld } from '../support/fixtures.js';
import { expectError } from '../support/flows.js';
import { passengerToken } from '../support/test-app.js';

const { t, sms } = useNotifyWorld({ RATE_LIMIT_PER_IP_PER_MINUTE: '10000' });

let users = 0;
const newPassenger = () => passengerToken(t, `phone-${++users}`);
const me = async (auth: string) =>
  (await t.http().get('/v1/passengers/me').set('authorization', auth).expect(200)).body as {
    phone: string | null;
    phoneVerified: boolean;
    phoneSource: string | null;
  };
const requestCode = (auth: string, phone: string) =>
  t.http().post('/v1/passengers/me/phone/otp').set('authorization', auth).send({ phone });
const verifyCode = (auth: string, phone: string, code: string) =>
  t.http().post('/v1/passengers/me/phone/verify').set('authorization', auth).send({ phone, code });
/** The code of the last SMS sent to `phone` (fake SMS gateway). */
function lastCodeTo(phone: string): string {
  const sent = sms.received.filter((r) => r.body.phone === phone && r.body.template === 'ridetrace_otp');
  expect(sent.length).toBeGreaterThan(0);
  return (sent.at(-1)!.body.params as { code: string }).code;
}

describe('super-app phone number', () => {
  it('the button code verifies the phone (source superapp); the profile shows it masked', async () => {
    const auth = await newPassenger();
    const res = await t
      .http()
      .post('/v1/passengers/me/phone')
      .set('authorization', auth)
      .send({ code: 'phone:13700001111' })
      .expect(200);
    expect(res.body).toMatchObject({ phone: '137****1111', phoneVerified: true, phoneSource: 'superapp' });
    expect(await me(auth)).toMatchObject({ phone: '137****1111', phoneVerified: true });
  });

  it('confirming with that phone keeps it verified; with another phone it becomes the passenger’s claim', async () => {
    const auth = await newPassenger();
    await t
      .http()
      .post('/v1/passengers/me/phone')
      .set('authorization', auth)
      .send({ code: 'phone:13700002222' });
    const confirm = (phone: string) =>
      t
        .http()
        .post('/v1/passengers/me/confirm')
        .set('authorization', auth)
        .send({ name: '韩梅梅', phone, consentVersion: t.config.consentVersion })
        .expect(200);
    expect((await confirm('13700002222')).body.passenger).toMatchObject({ phoneSource: 'superapp' });
    expect((await confirm('13700002223')).body.passenger).toMatchObject({
      phone: '137****2223',
      phoneVerified: false,
      phoneSource: 'self',
    });
  });

  it('confirming without a phone keeps the verified one; with none verified it is 400 phone_required', async () => {
    const confirm = (auth: string) =>
      t
        .http()
        .post('/v1/passengers/me/confirm')
        .set('authorization', auth)
        .send({ name: '韩梅梅', consentVersion: t.config.consentVersion });
    const unverified = await newPassenger();
    expectError(await confirm(unverified), 400, 'phone_required');
    expect(await me(unverified)).toMatchObject({ phone: null });

    const auth = await newPassenger();
    await t
      .http()
      .post('/v1/passengers/me/phone')
      .set('authorization', auth)
      .send({ code: 'phone:13700003333' })
      .expect(200);
    const res = await confirm(auth);
    expect(res.status).toBe(200);
    expect(res.body.passenger).toMatchObject({
      confirmed: true,
      phone: '137****3333',
      phoneVerified: true,
      phoneSource: 'superapp',
    });
  });

  it('an invalid code is 400 phone_code_invalid; the super-app down is 503 superapp_unavailable', async () => {
    const auth = await newPassenger();
    const post = (code: string) =>
      t.http().post('/v1/passengers/me/phone').set('authorization', auth).send({ code });
    expectError(await post('not-a-code'), 400, 'phone_code_invalid');
    expectError(await post('down'), 503, 'superapp_unavailable');
    expect(await me(auth)).toMatchObject({ phone: null, phoneVerified: false, phoneSource: null });
  });
});

describe('SMS one-time code', () => {
  it('the right code verifies the phone (source otp); the code is stored only as a keyed hash', async () => {
    const auth = await newPassenger();
    const sent = await requestCode(auth, '13700003333').expect(200);
    expect(sent.body).toEqual({ phone: '137****3333', expiresIn: 600, resendIn: 60 });
    const code = lastCodeTo('13700003333');
    expect(code).toMatch(/^\d{6}$/);
    const rows = await t.db.selectFrom('phone_otps').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(code);
    const ok = await verifyCode(auth, '13700003333', code).expect(200);
    expect(ok.body).toMatchObject({ phone: '137****3333', phoneVerified: true, phoneSource: 'otp' });
    // Used once.
    expectError(await verifyCode(auth, '13700003333', code), 400, 'otp_expired');
  });

  it('a wrong code is otp_invalid; five wrong tries end the code (otp_attempts_exceeded), even for the right one', async () => {
    const auth = await newPassenger();
    await requestCode(auth, '13700004444').expect(200);
    const code = lastCodeTo('13700004444');
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) expectError(await verifyCode(auth, '13700004444', wrong), 400, 'otp_invalid');
    expectError(await verifyCode(auth, '13700004444', code), 400, 'otp_attempts_exceeded');
    expect(await me(auth)).toMatchObject({ phoneVerified: false });
  });

  it('a code expires after 10 minutes; a code for another phone does not verify this one', async () => {
    const auth = await newPassenger();
    await requestCode(auth, '13700005555').expect(200);
    const code = lastCodeTo('13700005555');
    expectError(await verifyCode(auth, '13700005556', code), 400, 'otp_expired');
    t.clock.offsetMs += 11 * 60_000;
    try {
      expectError(await verifyCode(auth, '13700005555', code), 400, 'otp_expired');
    } finally {
      t.clock.offsetMs -= 11 * 60_000;
    }
  });

  it('another code to the same phone within a minute is 429 otp_rate_limited with Retry-After', async () => {
    const auth = await newPassenger();
    await requestCode(auth, '13700006666').expect(200);
    const again = await requestCode(auth, '13700006666');
    expectError(again, 429, 'otp_rate_limited');
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(again.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('at most 5 codes per phone an hour, whoever asks', async () => {
    for (let i = 0; i < 5; i++) {
      await requestCode(await newPassenger(), '13700007777').expect(200);
      t.clock.offsetMs += 61_000;
    }
    try {
      const sixth = await requestCode(await newPassenger(), '13700007777');
      expectError(sixth, 429, 'otp_rate_limited');
      expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(60);
    } finally {
      t.clock.offsetMs -= 5 * 61_000;
    }
  });

  it('the SMS provider failing is 503 sms_unavailable, and that attempt does not count', async () => {
    const auth = await newPassenger();
    sms.failFirst = sms.calls + 1;
    try {
      expectError(await requestCode(auth, '13700008888'), 503, 'sms_unavailable');
    } finally {
      sms.failFirst = 0;
    }
    await requestCode(auth, '13700008888').expect(200);
  });
});
