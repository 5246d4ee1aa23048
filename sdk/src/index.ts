import type {
  AuditEntry,
  Carrier,
  CarrierCode,
  CarrierPage,
  Case,
  CaseNotifications,
  ClearPersonBody,
  ClientToken,
  ClientWithSecret,
  ConfirmBody,
  ConfirmResult,
  Consent,
  CreateCarrierBody,
  CreateCaseBody,
  CreateClientBody,
  ErrorCode,
  Exposure,
  ExposurePage,
  HealthStatus,
  Itinerary,
  ListCarriersQuery,
  ManualRideBody,
  ManualRideResult,
  MyNotification,
  MyRides,
  NotifyResult,
  Operator,
  PassengerExport,
  PassengerProfile,
  PassengerToken,
  ScanBody,
  ScanConfirmationRequired,
  ScanRegistered,
  StatusToken,
  UpdateCarrierBody,
  VerifiedStatus,
} from '@ridetrace/shared';

/** An API error: the stable shared code, the HTTP status and the server's message. */
export class RideTraceError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network_error' | 'unexpected_response',
    message: string,
    /** The reply's Retry-After, in ms (seconds or an HTTP date), when it had one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RideTraceError';
  }
}

/** Retry-After (delay-seconds or HTTP-date, RFC 9110) in ms; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export interface ClientOptions {
  /** e.g. https://ridetrace.example.cn */
  baseUrl: string;
  /** Bearer token; login methods set it. */
  token?: string;
  timeoutMs?: number;
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
}

type Query = Record<string, string | number | boolean | undefined>;

export type ScanResult =
  (ScanRegistered & { status: 200 | 201 }) | (ScanConfirmationRequired & { status: 202 });

/**
 * Typed RideTrace client. Every method returns the contract's static type and throws RideTraceError with the
 * shared error code on any non-2xx reply.
 */
export class RideTraceClient {
  private token: string | undefined;
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly overloadRetries: number;
  private readonly maxRetryAfterMs: number;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.token = opts.token;
    this.fetchFn = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.overloadRetries = opts.overloadRetries ?? 2;
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 5_000;
  }

  get accessToken(): string | undefined {
    return this.token;
  }

  setToken(token: string | undefined): this {
    this.token = token;
    return this;
  }

  private async send(
    method: string,
    path: string,
    opts: { body?: unknown; query?: Query } = {},
  ): Promise<Response> {
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
    method: string,
    path: string,
    opts: { body?: unknown; query?: Query },
  ): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method,
        headers,
        body: opts.body === undefined ? null : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new RideTraceError(0, 'network_error', `${method} ${path}: ${(err as Error).message}`);
    }
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as {
        error?: { code?: ErrorCode; message?: string };
      } | null;
      if (body?.error?.code)
        throw new RideTraceError(
          res.status,
          body.error.code,
          body.error.message ?? body.error.code,
          retryAfterMs(res.headers.get('retry-after')),
        );
      throw new RideTraceError(res.status, 'unexpected_response', `${method} ${path}: HTTP ${res.status}`);
    }
    return res;
  }

  private async json<T>(
    method: string,
    path: string,
    opts: { body?: unknown; query?: Query } = {},
  ): Promise<T> {
    const res = await this.send(method, path, opts);
    return (await res.json()) as T;
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

  // --- passengers ---------------------------------------------------------------------------------------------

  async scan(body: ScanBody): Promise<ScanResult> {
    const res = await this.send('POST', '/v1/rides', { body });
    return {
      ...((await res.json()) as ScanRegistered | ScanConfirmationRequired),
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
    const res = await this.send('GET', `/v1/carriers/${id}/code.png`, { query: { size } });
    return new Uint8Array(await res.arrayBuffer());
  }
  bindStaff = (id: number, clientId: string) =>
    this.json<{ carrierId: number; staff: string[] }>('POST', `/v1/carriers/${id}/staff`, {
      body: { clientId },
    });

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
  listCases = (q: { status?: 'open' | 'closed'; limit?: number; cursor?: string } = {}) =>
    this.json<{ items: Case[]; nextCursor: string | null }>('GET', '/v1/cases', { query: q });
  getCase = (id: string) => this.json<Case>('GET', `/v1/cases/${id}`);
  closeCase = (id: string, reason?: string) =>
    this.json<Case>('POST', `/v1/cases/${id}/close`, reason === undefined ? {} : { body: { reason } });
  exposures = (id: string, q: { degree?: 1 | 2; limit?: number; cursor?: string } = {}) =>
    this.json<ExposurePage>('GET', `/v1/cases/${id}/exposures`, { query: q });
  /** All exposures of a case, across pages (each page is an audited read). */
  async allExposures(id: string, degree: 1 | 2 = 1): Promise<Exposure[]> {
    const all: Exposure[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.exposures(id, { degree, limit: 200, ...(cursor ? { cursor } : {}) });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  }
  async exposuresCsv(id: string, degree: 1 | 2 = 1): Promise<string> {
    const res = await this.send('GET', `/v1/cases/${id}/exposures.csv`, { query: { degree } });
    // Keep the UTF-8 BOM the API sends (spreadsheets need it); Response.text() would strip it.
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
  }
  notify = (id: string) => this.json<NotifyResult>('POST', `/v1/cases/${id}/notify`);
  caseNotifications = (id: string) => this.json<CaseNotifications>('GET', `/v1/cases/${id}/notifications`);
  clearPerson = (body: ClearPersonBody) => this.json<HealthStatus>('POST', '/v1/status/clear', { body });

  // --- admin --------------------------------------------------------------------------------------------------

  createOperator = (id: string, name: string) =>
    this.json<Operator>('POST', '/v1/admin/operators', { body: { id, name } });
  createClient = (body: CreateClientBody) =>
    this.json<ClientWithSecret>('POST', '/v1/admin/clients', { body });
  audit = (q: { caseId?: string; limit?: number; cursor?: string } = {}) =>
    this.json<{ items: AuditEntry[]; nextCursor: string | null }>('GET', '/v1/audit', { query: q });
}
