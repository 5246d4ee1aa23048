import type {
  AccessLogPage,
  AuditAction,
  AuditEntry,
  AuditVerify,
  Carrier,
  CarrierCode,
  CarrierImportResult,
  CarrierPage,
  Case,
  CaseNotifications,
  CaseRides,
  ClearPersonBody,
  Client,
  ClientToken,
  ClientWithSecret,
  ConfirmBody,
  ConfirmResult,
  Consent,
  CreateCarrierBody,
  CreateCaseBody,
  CreateClientBody,
  CreateOfficialBody,
  CSRF_HEADER,
  CsvProblem,
  DeliveryReceipt,
  DeliveryReceiptsResult,
  ErrorCode,
  Exposure,
  ExposurePage,
  HealthStatus,
  ImportCarriersBody,
  Itinerary,
  ListCarriersQuery,
  ListRevealRequestsQuery,
  ManualRideBody,
  ManualRideResult,
  MyNotification,
  MyRides,
  NotifyBody,
  NotifyResult,
  OFFICIAL_COOKIES,
  OfficialAccount,
  OfficialEnrolment,
  OfficialList,
  OfficialSession,
  OfficialSignInBody,
  Operator,
  PassengerExport,
  PassengerProfile,
  PassengerToken,
  PhoneCodeSent,
  PosterSheetQuery,
  RevealRequest,
  RevealRequestPage,
  ScanBody,
  ScanConfirmationRequired,
  ScanRegistered,
  StaffAccountList,
  StaffBindings,
  StatusToken,
  SubscriptionBody,
  SubscriptionGrants,
  UpdateCarrierBody,
  VerifiedStatus,
} from '@ridetrace/shared';
import { RideTraceError } from './error.js';
import {
  fetchTransport,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from './transport.js';

export { RideTraceError } from './error.js';
export {
  fetchTransport,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from './transport.js';

// Type-only imports keep the shared package out of mini-program bundles; `typeof` keeps the names in step with it.
const csrfHeader: typeof CSRF_HEADER = 'x-csrf-token';
const csrfCookie: (typeof OFFICIAL_COOKIES)['csrf'] = 'rt_official_csrf';

/** The console session's CSRF token from its cookie, in a browser page (after a reload the client has lost it). */
function csrfFromDocument(): string | undefined {
  // Typed by hand: the SDK also compiles without the DOM library (scripts, mini-program).
  const doc = (globalThis as { document?: { cookie: string } }).document;
  for (const part of doc?.cookie.split(';') ?? []) {
    const [name, ...value] = part.trim().split('=');
    if (name === csrfCookie) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** Retry-After (delay-seconds or HTTP-date, RFC 9110) in ms; undefined when absent or unreadable. */
function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** A reply header by name, whatever case the transport gave it in. */
function headerOf(res: TransportResponse, name: string): string | undefined {
  for (const [k, v] of Object.entries(res.headers)) if (k.toLowerCase() === name && v !== undefined) return v;
  return undefined;
}

/** The `{ error: { code, message } }` of a failed reply, in whichever form the transport gave its body. */
interface ErrorFields {
  code?: ErrorCode;
  message?: string;
  problems?: CsvProblem[];
  problemCount?: number;
}

function errorOf(data: unknown): ErrorFields | undefined {
  let body = data;
  if (typeof ArrayBuffer !== 'undefined' && body instanceof ArrayBuffer)
    body = new TextDecoder().decode(body);
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  return (body as { error?: ErrorFields } | null | undefined)?.error;
}

export interface ClientOptions {
  /** e.g. https://ridetrace.example.cn */
  baseUrl: string;
  /** Bearer token; login methods set it. */
  token?: string;
  timeoutMs?: number;
  /** How requests are sent (default `fetchTransport`); e.g. a mini-program's `Taro.request`. */
  transport?: Transport;
  /** The fetch of the default transport; ignored with `transport`. */
  fetch?: typeof fetch;
  /**
   * Times a request refused with 503 `overloaded` is sent again, after its Retry-After delay (default 2). Safe for
   * every request: the server sheds a request before doing anything of it. Other 503s (database unavailable) are
   * not retried here: a write may or may not have happened; scans are retried by the caller with the same
   * clientRideId.
   */
  overloadRetries?: number;
  /** Longest Retry-After delay honoured (default 5,000 ms); a longer one is answered with the error at once. */
  maxRetryAfterMs?: number;
  /**
   * Cookie sessions, for the officials' console in a browser (signInOfficialSession): requests go with these fetch
   * credentials, the browser keeping the httpOnly session cookies, and POST, PATCH and DELETE carry the session's
   * CSRF token. Default: none (bearer tokens).
   */
  cookies?: 'same-origin' | 'include';
}

type Query = Record<string, string | number | boolean | undefined>;

interface SendOptions {
  body?: unknown;
  query?: Query;
  responseType?: TransportRequest['responseType'];
}

/** `?k=v&…` of the defined values; built by hand: mini-programs have no URL or URLSearchParams. */
function queryString(query: Query | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

export type ScanResult =
  (ScanRegistered & { status: 200 | 201 }) | (ScanConfirmationRequired & { status: 202 });

/**
 * Typed RideTrace client. Every method returns the contract's static type and throws RideTraceError with the
 * shared error code on any non-2xx reply (or what the transport rejected with).
 */
export class RideTraceClient {
  private token: string | undefined;
  private readonly baseUrl: string;
  private readonly transport: Transport;
  private readonly timeoutMs: number;
  private readonly overloadRetries: number;
  private readonly maxRetryAfterMs: number;
  private readonly cookies: ClientOptions['cookies'];
  private csrfToken: string | undefined;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.token = opts.token;
    this.transport = opts.transport ?? fetchTransport(opts.fetch);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.overloadRetries = opts.overloadRetries ?? 2;
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 5_000;
    this.cookies = opts.cookies;
  }

  get accessToken(): string | undefined {
    return this.token;
  }

  setToken(token: string | undefined): this {
    this.token = token;
    return this;
  }

  private async send(
    method: TransportRequest['method'],
    path: string,
    opts: SendOptions = {},
  ): Promise<TransportResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.sendOnce(method, path, opts);
      } catch (err) {
        const wait =
          err instanceof RideTraceError && err.code === 'overloaded' ? err.retryAfterMs : undefined;
        if (wait === undefined || attempt >= this.overloadRetries || wait > this.maxRetryAfterMs) throw err;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  private async sendOnce(
    method: TransportRequest['method'],
    path: string,
    opts: SendOptions,
  ): Promise<TransportResponse> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (this.cookies && method !== 'GET') {
      const csrf = this.csrfToken ?? csrfFromDocument();
      if (csrf) headers[csrfHeader] = csrf;
    }
    const res = await this.transport({
      method,
      path,
      url: this.baseUrl + path + queryString(opts.query),
      headers,
      body: opts.body,
      responseType: opts.responseType ?? 'json',
      timeoutMs: this.timeoutMs,
      ...(this.cookies ? { credentials: this.cookies } : {}),
    });
    if (res.status >= 200 && res.status < 300) return res;
    const error = errorOf(res.data);
    if (error?.code)
      throw new RideTraceError(
        res.status,
        error.code,
        error.message ?? error.code,
        retryAfterMs(headerOf(res, 'retry-after')),
        error.problems
          ? { items: error.problems, total: error.problemCount ?? error.problems.length }
          : undefined,
      );
    throw new RideTraceError(res.status, 'unexpected_response', `${method} ${path}: HTTP ${res.status}`);
  }

  private async json<T>(
    method: TransportRequest['method'],
    path: string,
    opts: SendOptions = {},
  ): Promise<T> {
    return bodyOf<T>(await this.send(method, path, opts), method, path);
  }

  // --- authentication ---------------------------------------------------------------------------------------

  /** Passenger login with a super-app login code; keeps the token. */
  async loginPassenger(loginCode: string): Promise<PassengerToken> {
    const t = await this.json<PassengerToken>('POST', '/v1/auth/passenger', { body: { loginCode } });
    this.token = t.accessToken;
    return t;
  }

  /** Integration client login (client credentials); keeps the token. */
  async loginClient(clientId: string, clientSecret: string, scope?: string): Promise<ClientToken> {
    const t = await this.json<ClientToken>('POST', '/v1/auth/token', {
      body: { grantType: 'client_credentials', clientId, clientSecret, ...(scope ? { scope } : {}) },
    });
    this.token = t.accessToken;
    return t;
  }

  /** Official person sign-in for the console (with `cookies`): the session lives in cookies; keeps its CSRF token. */
  async signInOfficialSession(body: OfficialSignInBody): Promise<OfficialSession> {
    const s = await this.json<OfficialSession>('POST', '/v1/auth/official/session', { body });
    this.csrfToken = s.csrfToken;
    return s;
  }

  /** New session cookies (call it before `expiresIn` runs out); the refresh cookie is single use. */
  async refreshOfficialSession(): Promise<OfficialSession> {
    const s = await this.json<OfficialSession>('POST', '/v1/auth/official/session/refresh');
    this.csrfToken = s.csrfToken;
    return s;
  }

  /** Ends the official person's session (and clears the console's cookies); drops the token it held. */
  async signOutOfficial(): Promise<void> {
    try {
      await this.send('POST', '/v1/auth/official/logout');
    } catch (err) {
      // The access cookie lapses long before the session: renew it once, so that the session itself ends.
      if (!(this.cookies && err instanceof RideTraceError && err.status === 401)) throw err;
      await this.refreshOfficialSession();
      await this.send('POST', '/v1/auth/official/logout');
    }
    this.token = undefined;
    this.csrfToken = undefined;
  }

  /** The signed-in official person: name, agency, jurisdiction, roles and scopes. */
  officialMe = () => this.json<OfficialAccount>('GET', '/v1/officials/me');

  // --- passengers ---------------------------------------------------------------------------------------------

  async scan(body: ScanBody): Promise<ScanResult> {
    const res = await this.send('POST', '/v1/rides', { body });
    return {
      ...bodyOf<ScanRegistered | ScanConfirmationRequired>(res, 'POST', '/v1/rides'),
      status: res.status,
    } as ScanResult;
  }

  /** First-time confirmation; keeps the renewed token. */
  async confirm(body: ConfirmBody): Promise<ConfirmResult> {
    const r = await this.json<ConfirmResult>('POST', '/v1/passengers/me/confirm', { body });
    this.token = r.accessToken;
    return r;
  }

  /** The current consent text and its version (public). */
  consent = () => this.json<Consent>('GET', '/v1/consent');
  me = () => this.json<PassengerProfile>('GET', '/v1/passengers/me');
  myRides = (days?: number) => this.json<MyRides>('GET', '/v1/passengers/me/rides', { query: { days } });
  myStatus = () => this.json<HealthStatus>('GET', '/v1/passengers/me/status');
  statusToken = () => this.json<StatusToken>('POST', '/v1/passengers/me/status-token');
  itinerary = (days?: number) =>
    this.json<Itinerary>('GET', '/v1/passengers/me/itinerary', { query: { days } });
  myNotifications = () => this.json<{ items: MyNotification[] }>('GET', '/v1/passengers/me/notifications');
  exportMyData = () => this.json<PassengerExport>('GET', '/v1/passengers/me/export');
  /** When the health authority read my data, which agency and why: newest first, a page at a time. */
  myAccessLog = (cursor?: string) =>
    this.json<AccessLogPage>('GET', '/v1/passengers/me/access-log', { query: { cursor } });
  /**
   * Verifies my phone with the one-time code of the mini-program's getPhoneNumber button: the server redeems it
   * for the number the super-app verified. The profile shows it masked (the client never learns it in full).
   */
  verifyPhoneWithSuperApp = (code: string) =>
    this.json<PassengerProfile>('POST', '/v1/passengers/me/phone', { body: { code } });
  /** Sends a 6-digit SMS code to `phone` (429 otp_rate_limited with Retry-After, 503 sms_unavailable). */
  requestPhoneCode = (phone: string) =>
    this.json<PhoneCodeSent>('POST', '/v1/passengers/me/phone/otp', { body: { phone } });
  /** Checks the SMS code: `phone` becomes my verified phone (otp_invalid, otp_expired, otp_attempts_exceeded). */
  verifyPhoneCode = (phone: string, code: string) =>
    this.json<PassengerProfile>('POST', '/v1/passengers/me/phone/verify', { body: { phone, code } });
  /**
   * Records my answer to the super-app's subscription request for the exposure template: `accept` lets the super-app
   * deliver one more exposure message (without one left the server sends an SMS instead).
   */
  recordSubscription = (body: SubscriptionBody) =>
    this.json<SubscriptionGrants>('POST', '/v1/passengers/me/subscriptions', { body });
  async deleteAccount(): Promise<void> {
    await this.send('DELETE', '/v1/passengers/me');
  }

  // --- operators ----------------------------------------------------------------------------------------------

  createCarrier = (body: CreateCarrierBody) => this.json<Carrier>('POST', '/v1/carriers', { body });
  listCarriers = (q: ListCarriersQuery = {}) => this.json<CarrierPage>('GET', '/v1/carriers', { query: q });
  getCarrier = (id: number) => this.json<Carrier>('GET', `/v1/carriers/${id}`);
  updateCarrier = (id: number, body: UpdateCarrierBody) =>
    this.json<Carrier>('PATCH', `/v1/carriers/${id}`, { body });
  retireCarrier = (id: number) => this.json<Carrier>('POST', `/v1/carriers/${id}/retire`);
  issueCode = (id: number) => this.json<CarrierCode>('POST', `/v1/carriers/${id}/code`);
  currentCode = (id: number) => this.json<CarrierCode>('GET', `/v1/carriers/${id}/code`);
  async codePng(id: number, size?: number): Promise<Uint8Array> {
    const res = await this.send('GET', `/v1/carriers/${id}/code.png`, {
      query: { size },
      responseType: 'arraybuffer',
    });
    return new Uint8Array(res.data as ArrayBuffer);
  }
  bindStaff = (id: number, clientId: string) =>
    this.json<StaffBindings>('POST', `/v1/carriers/${id}/staff`, { body: { clientId } });
  carrierStaff = (id: number) => this.json<StaffBindings>('GET', `/v1/carriers/${id}/staff`);
  unbindStaff = (id: number, clientId: string) =>
    this.json<StaffBindings>('DELETE', `/v1/carriers/${id}/staff/${encodeURIComponent(clientId)}`);
  /** The operator's staff accounts (drivers, conductors), to bind to carriers; admins name the operator. */
  staffAccounts = (operatorId?: string) =>
    this.json<StaffAccountList>('GET', '/v1/staff-accounts', { query: { operatorId } });
  /**
   * Checks every row of a carriers CSV and writes rows `from`..`from + count` (all rows without them), or none with
   * `dryRun`. A bad row refuses the file: RideTraceError `csv_rows_invalid` with `problems`.
   */
  importCarriers = (body: ImportCarriersBody) =>
    this.json<CarrierImportResult>('POST', '/v1/carriers/import', { body });
  /** One carrier's A5 poster (PDF). */
  async posterPdf(id: number): Promise<Uint8Array> {
    const res = await this.send('GET', `/v1/carriers/${id}/poster.pdf`, { responseType: 'arraybuffer' });
    return new Uint8Array(res.data as ArrayBuffer);
  }
  /** Active carriers' posters, two A5 per A4 landscape sheet (PDF): chosen `ids`, or a filter. */
  async posterSheetsPdf(q: PosterSheetQuery): Promise<Uint8Array> {
    const res = await this.send('GET', '/v1/carriers/posters.pdf', { query: q, responseType: 'arraybuffer' });
    return new Uint8Array(res.data as ArrayBuffer);
  }

  /** Every carrier matching the filter, across pages. */
  async *allCarriers(q: Omit<ListCarriersQuery, 'cursor'> = {}): AsyncGenerator<Carrier> {
    let cursor: string | undefined;
    do {
      const page = await this.listCarriers({ ...q, ...(cursor ? { cursor } : {}) });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  // --- staff --------------------------------------------------------------------------------------------------

  myCarriers = () => this.json<{ items: Carrier[] }>('GET', '/v1/staff/me/carriers');
  manualRide = (carrierId: number, body: ManualRideBody) =>
    this.json<ManualRideResult>('POST', `/v1/carriers/${carrierId}/manual-rides`, { body });
  verifyStatus = (token: string) =>
    this.json<VerifiedStatus>('POST', '/v1/status/verify', { body: { token } });

  // --- officials ----------------------------------------------------------------------------------------------

  openCase = (body: CreateCaseBody) => this.json<Case>('POST', '/v1/cases', { body });
  /** Cases, newest first; `caseNumber` finds the numbers starting with it (letter case ignored). */
  listCases = (
    q: { status?: 'open' | 'closed'; caseNumber?: string; limit?: number; cursor?: string } = {},
  ) => this.json<{ items: Case[]; nextCursor: string | null }>('GET', '/v1/cases', { query: q });
  /** One case; `reveal: true` unmasks the subject (needs a reveal grant for the case). */
  getCase = (id: string, o: { reveal?: boolean } = {}) =>
    this.json<Case>('GET', `/v1/cases/${id}`, { query: o.reveal ? { reveal: true } : {} });
  /** The case subject's rides in the infectious window, oldest first, with their flags (an audited read). */
  caseRides = (id: string) => this.json<CaseRides>('GET', `/v1/cases/${id}/rides`);
  closeCase = (id: string, reason?: string) =>
    this.json<Case>('POST', `/v1/cases/${id}/close`, reason === undefined ? {} : { body: { reason } });
  /** One page of a case's exposures; `reveal: true` unmasks them (needs a reveal grant for the case). */
  exposures = (id: string, q: { degree?: 1 | 2; limit?: number; cursor?: string; reveal?: boolean } = {}) =>
    this.json<ExposurePage>('GET', `/v1/cases/${id}/exposures`, { query: q });
  /** All exposures of a case, across pages (each page is an audited read). */
  async allExposures(id: string, degree: 1 | 2 = 1, o: { reveal?: boolean } = {}): Promise<Exposure[]> {
    const all: Exposure[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.exposures(id, {
        degree,
        limit: 200,
        ...(o.reveal ? { reveal: true } : {}),
        ...(cursor ? { cursor } : {}),
      });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  }
  async exposuresCsv(id: string, degree: 1 | 2 = 1, o: { reveal?: boolean } = {}): Promise<string> {
    const res = await this.send('GET', `/v1/cases/${id}/exposures.csv`, {
      query: { degree, ...(o.reveal ? { reveal: true } : {}) },
      responseType: 'arraybuffer',
    });
    // Keep the UTF-8 BOM the API sends (spreadsheets need it); a default TextDecoder would strip it.
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(res.data as ArrayBuffer);
  }
  /**
   * Asks for unmasked identities of a case (four-eyes reveal): pending until another official approves, or granted
   * at once with REVEAL_APPROVAL=single.
   */
  requestReveal = (caseId: string, reason: string) =>
    this.json<RevealRequest>('POST', `/v1/cases/${caseId}/reveal-requests`, { body: { reason } });
  /** Reveal requests: every one for approvers (the inbox: `state: 'pending'`), else my own. */
  revealRequests = (q: ListRevealRequestsQuery = {}) =>
    this.json<RevealRequestPage>('GET', '/v1/reveal-requests', { query: q });
  revealRequest = (id: string) => this.json<RevealRequest>('GET', `/v1/reveal-requests/${id}`);
  approveReveal = (id: string, note?: string) =>
    this.json<RevealRequest>('POST', `/v1/reveal-requests/${id}/approve`, note ? { body: { note } } : {});
  refuseReveal = (id: string, note?: string) =>
    this.json<RevealRequest>('POST', `/v1/reveal-requests/${id}/refuse`, note ? { body: { note } } : {});
  /** Queues notifications: degree 1 (default) the exposed persons, degree 2 also their secondary contacts. */
  notify = (id: string, body: NotifyBody = {}) =>
    this.json<NotifyResult>('POST', `/v1/cases/${id}/notify`, body.degree === undefined ? {} : { body });
  caseNotifications = (id: string) => this.json<CaseNotifications>('GET', `/v1/cases/${id}/notifications`);
  /**
   * For a gateway's bridge, with DELIVERY_RECEIPT_TOKEN as the client's token: reports which sent messages of a
   * channel reached the phone or never will (1 to 1000 receipts). Safe to resend: repeats count as `ignored`.
   */
  deliveryReceipts = (channel: 'app' | 'sms', receipts: DeliveryReceipt[]) =>
    this.json<DeliveryReceiptsResult>('POST', `/v1/delivery-receipts/${channel}`, { body: { receipts } });
  clearPerson = (body: ClearPersonBody) => this.json<HealthStatus>('POST', '/v1/status/clear', { body });

  // --- admin --------------------------------------------------------------------------------------------------

  createOperator = (id: string, name: string) =>
    this.json<Operator>('POST', '/v1/admin/operators', { body: { id, name } });
  listOperators = () => this.json<{ items: Operator[] }>('GET', '/v1/admin/operators');
  createClient = (body: CreateClientBody) =>
    this.json<ClientWithSecret>('POST', '/v1/admin/clients', { body });
  /** Machine clients (integration systems, staff devices, operators' systems). */
  listClients = () => this.json<{ items: Client[] }>('GET', '/v1/admin/clients');
  /** Disables a machine client: it can no longer obtain tokens. */
  disableClient = (clientId: string) =>
    this.json<Client>('POST', `/v1/admin/clients/${encodeURIComponent(clientId)}/disable`);
  /** A new secret for a machine client (shown once); the old one stops working. */
  rotateClientSecret = (clientId: string) =>
    this.json<ClientWithSecret>('POST', `/v1/admin/clients/${encodeURIComponent(clientId)}/secret`);
  /**
   * A page of the audit log, oldest first (newest first with `order: 'desc'`). Filters combine: a case, an actor
   * (official id, client id or system job), an action, and a time range (`from` inclusive, `to` exclusive; ISO times).
   */
  audit = (
    q: {
      caseId?: string;
      actor?: string;
      action?: AuditAction;
      from?: string;
      to?: string;
      /** `desc`: newest first. */
      order?: 'asc' | 'desc';
      limit?: number;
      cursor?: string;
    } = {},
  ) => this.json<{ items: AuditEntry[]; nextCursor: string | null }>('GET', '/v1/audit', { query: q });
  /** Recomputes the audit chain from the last signed checkpoint (bounded per call: see `anchor`); audited. */
  verifyAudit = () => this.json<AuditVerify>('GET', '/v1/audit/verify');
  /** Official person accounts (officials:admin). */
  listOfficials = () => this.json<OfficialList>('GET', '/v1/admin/officials');
  /** A new official person: the initial password and TOTP enrolment URI, shown this once. */
  createOfficial = (body: CreateOfficialBody) =>
    this.json<OfficialEnrolment>('POST', '/v1/admin/officials', { body });
  /** Disables an official person's account; their sessions end at once. */
  disableOfficial = (id: string) => this.json<OfficialAccount>('POST', `/v1/admin/officials/${id}/disable`);
  /** New password and TOTP secret (shown once); re-enables the account and ends its sessions. */
  resetOfficial = (id: string) => this.json<OfficialEnrolment>('POST', `/v1/admin/officials/${id}/reset`);
}

/** A 2xx reply's JSON object; anything else (an HTML page from a proxy, say) is `unexpected_response`. */
function bodyOf<T>(res: TransportResponse, method: string, path: string): T {
  if (typeof res.data !== 'object' || res.data === null)
    throw new RideTraceError(
      res.status,
      'unexpected_response',
      `${method} ${path}: no JSON object in the reply`,
    );
  return res.data as T;
}
