import {
  RideTraceClient,
  RideTraceError,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from '@ridetrace/sdk';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { afterEach, describe, expect, it, vi } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

type Reply = Partial<TransportResponse> | ((req: TransportRequest) => Promise<TransportResponse>);

/** A transport answering with the scripted replies in turn (the last one repeats); it records the requests. */
function scripted(...replies: Reply[]): { transport: Transport; seen: TransportRequest[] } {
  const seen: TransportRequest[] = [];
  const transport: Transport = async (req) => {
    seen.push(req);
    const r = replies[Math.min(seen.length - 1, replies.length - 1)]!;
    if (typeof r === 'function') return r(req);
    return { status: 200, headers: {}, data: {}, ...r };
  };
  return { transport, seen };
}

async function sdkError(p: Promise<unknown>): Promise<RideTraceError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RideTraceError);
  return err as RideTraceError;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('SDK transport', () => {
  it('hands the transport the URL, headers, body value, response type and timeout', async () => {
    const { transport, seen } = scripted({ status: 200, data: { items: [], nextCursor: null } });
    const c = new RideTraceClient({ baseUrl: 'https://api.example.cn//', transport, timeoutMs: 1234 });
    await c.listCases({ status: 'open', limit: 5, cursor: 'a b&c=d/é' });
    c.setToken('tok');
    await c.verifyStatus('RTS1.x');
    await c.statusToken();
    expect(seen[0]).toEqual({
      method: 'GET',
      path: '/v1/cases',
      url: 'https://api.example.cn/v1/cases?status=open&limit=5&cursor=a%20b%26c%3Dd%2F%C3%A9',
      headers: {},
      body: undefined,
      responseType: 'json',
      timeoutMs: 1234,
    });
    expect(new URL(seen[0]!.url).searchParams.get('cursor')).toBe('a b&c=d/é');
    expect(seen[1]).toMatchObject({
      method: 'POST',
      url: 'https://api.example.cn/v1/status/verify',
      headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
      body: { token: 'RTS1.x' },
    });
    // No body, no content type (the transport decides what a bodiless POST sends).
    expect(seen[2]).toMatchObject({
      method: 'POST',
      headers: { authorization: 'Bearer tok' },
      body: undefined,
    });
    expect(seen[2]!.headers).not.toHaveProperty('content-type');
  });

  it('omits undefined query values, and the query string when none is left', async () => {
    const { transport, seen } = scripted({ data: { days: [] } });
    const c = new RideTraceClient({ baseUrl: 'http://h', transport });
    await c.itinerary();
    await c.itinerary(14);
    expect(seen.map((r) => r.url)).toEqual([
      'http://h/v1/passengers/me/itinerary',
      'http://h/v1/passengers/me/itinerary?days=14',
    ]);
  });

  it('binary replies: code.png as bytes, exposures.csv decoded with its BOM kept', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    const csv = new TextEncoder().encode('\uFEFFperson_id,name\r\n');
    const { transport, seen } = scripted({ data: png.buffer.slice(0) }, { data: csv.buffer.slice(0) });
    const c = new RideTraceClient({ baseUrl: 'http://h', transport });
    expect(await c.codePng(7, 256)).toEqual(png);
    expect(await c.exposuresCsv('case-1', 2)).toBe('\uFEFFperson_id,name\r\n');
    expect(seen.map((r) => [r.url, r.responseType])).toEqual([
      ['http://h/v1/carriers/7/code.png?size=256', 'arraybuffer'],
      ['http://h/v1/cases/case-1/exposures.csv?degree=2', 'arraybuffer'],
    ]);
  });

  it('scan keeps the reply status (201 registered, 202 confirmation required)', async () => {
    const { transport } = scripted(
      { status: 201, data: { result: 'registered', ride: { id: 'r-1' } } },
      { status: 202, data: { result: 'confirmation_required', preview: {} } },
    );
    const c = new RideTraceClient({ baseUrl: 'http://h', transport });
    const body = { code: 'AEAQAAAAAEAACAAAAAAAAAAAAAAAAAAA', clientRideId: randomUUID() };
    expect(await c.scan(body)).toMatchObject({ status: 201, result: 'registered' });
    expect(await c.scan(body)).toMatchObject({ status: 202, result: 'confirmation_required' });
  });

  it('a non-2xx reply is a RideTraceError with the shared code, whatever form the body came in', async () => {
    const error = { error: { code: 'code_forged', message: 'forged' } };
    const { transport } = scripted(
      { status: 400, data: error },
      { status: 400, data: JSON.stringify(error) },
      { status: 400, data: new TextEncoder().encode(JSON.stringify(error)).buffer },
      { status: 502, data: '<html>bad gateway</html>' },
      { status: 500, data: null },
    );
    const c = new RideTraceClient({ baseUrl: 'http://h', transport });
    for (let i = 0; i < 3; i++) {
      const e = await sdkError(c.consent());
      expect({ status: e.status, code: e.code, message: e.message }).toEqual({
        status: 400,
        code: 'code_forged',
        message: 'forged',
      });
    }
    const html = await sdkError(c.consent());
    expect({ status: html.status, code: html.code }).toEqual({ status: 502, code: 'unexpected_response' });
    expect((await sdkError(c.consent())).code).toBe('unexpected_response');
  });

  it('a 2xx reply without a JSON object is unexpected_response, not a string passed off as the type', async () => {
    const { transport } = scripted({ status: 200, data: '<html>captive portal</html>' });
    const e = await sdkError(new RideTraceClient({ baseUrl: 'http://h', transport }).me());
    expect({ status: e.status, code: e.code }).toEqual({ status: 200, code: 'unexpected_response' });
  });

  it('a bodiless 2xx is fine where no body is expected (delete my data)', async () => {
    const { transport, seen } = scripted({ status: 204, data: '' });
    await new RideTraceClient({ baseUrl: 'http://h', transport, token: 't' }).deleteAccount();
    expect(seen[0]).toMatchObject({ method: 'DELETE', path: '/v1/passengers/me', body: undefined });
  });

  it('what the transport rejects with is thrown as it is (a mini-program maps its own errors)', async () => {
    class AppError extends Error {}
    const own = new AppError('login_unavailable');
    const c = new RideTraceClient({ baseUrl: 'http://h', transport: () => Promise.reject(own) });
    await expect(c.me()).rejects.toBe(own);
  });

  it('503 overloaded is retried after Retry-After, header name in any case; overloadRetries 0 sends once', async () => {
    const overloaded = {
      status: 503,
      headers: { 'Retry-After': '0' },
      data: { error: { code: 'overloaded', message: 'busy' } },
    };
    const a = scripted(overloaded, { status: 200, data: { status: 'ok' } });
    await expect(
      new RideTraceClient({ baseUrl: 'http://h', transport: a.transport }).myStatus(),
    ).resolves.toEqual({
      status: 'ok',
    });
    expect(a.seen).toHaveLength(2);
    const b = scripted(overloaded);
    const e = await sdkError(
      new RideTraceClient({ baseUrl: 'http://h', transport: b.transport, overloadRetries: 0 }).myStatus(),
    );
    expect({ code: e.code, retryAfterMs: e.retryAfterMs }).toEqual({ code: 'overloaded', retryAfterMs: 0 });
    expect(b.seen).toHaveLength(1);
  });

  it('a client with its own transport never touches fetch (mini-programs have none)', async () => {
    vi.stubGlobal('fetch', () => {
      throw new Error('fetch used');
    });
    const { transport } = scripted({ data: { version: 'v1', text: {} } });
    await expect(new RideTraceClient({ baseUrl: 'http://h', transport }).consent()).resolves.toMatchObject({
      version: 'v1',
    });
  });

  it('the default transport is fetch: a failure to connect is network_error', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('fetch failed')));
    const e = await sdkError(new RideTraceClient({ baseUrl: 'http://h' }).consent());
    expect({ status: e.status, code: e.code, message: e.message }).toEqual({
      status: 0,
      code: 'network_error',
      message: 'GET /v1/consent: fetch failed',
    });
  });
});

// ---- what ships in the mini-program: no TypeBox at run time -------------------------------------------------

/** The workspace file a module specifier names, or the bare package name when it is outside the workspace. */
function resolveModule(from: string, spec: string): { file: string } | { pkg: string } | null {
  let base: string;
  if (spec.startsWith('.')) base = path.resolve(path.dirname(from), spec);
  else if (spec.startsWith('@ridetrace/')) {
    const [, name, ...sub] = spec.split('/');
    const dir = path.join(ROOT, name!);
    const exports = (
      JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        exports: Record<string, string>;
      }
    ).exports;
    const target = exports[sub.length ? `./${sub.join('/')}` : '.'];
    expect(target, `${spec} is not exported`).toBeDefined();
    base = path.join(dir, target!);
  } else return { pkg: spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]! };
  const stem = base.replace(/\.js$/, '');
  for (const f of [base, `${stem}.ts`, `${stem}.tsx`, path.join(base, 'index.ts')])
    if (/\.tsx?$/.test(f) && existsSync(f)) return { file: f };
  return null; // a stylesheet or an asset
}

/** The modules a file loads at run time: `import type` and `export type` are left out. */
function runtimeImports(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const specs: string[] = [];
  for (const node of src.statements) {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly)
      specs.push((node.moduleSpecifier as ts.StringLiteral).text);
    if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier)
      specs.push((node.moduleSpecifier as ts.StringLiteral).text);
  }
  return specs;
}

/** Every workspace file and outside package reached at run time from the roots. */
function runtimeGraph(roots: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of runtimeImports(file)) {
      const target = resolveModule(file, spec);
      if (target && 'pkg' in target) packages.add(target.pkg);
      else if (target) queue.push(target.file);
    }
  }
  return { files, packages };
}

const rel = (files: Iterable<string>) => [...files].map((f) => path.relative(ROOT, f)).sort();

describe('run-time imports', () => {
  it('the SDK and the shared identity rules load no package at all (TypeBox above all)', () => {
    const { files, packages } = runtimeGraph([
      path.join(ROOT, 'sdk/src/index.ts'),
      path.join(ROOT, 'shared/src/identity.ts'),
    ]);
    expect([...packages]).toEqual([]);
    expect(rel(files).filter((f) => f.startsWith('shared/'))).toEqual(['shared/src/identity.ts']);
  });

  it('the mini-program reaches shared/ only through its identity rules, and never TypeBox', () => {
    const src = path.join(ROOT, 'miniapp/src');
    const roots = readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.tsx?$/.test(f) && !/\.test\.tsx?$/.test(f))
      .map((f) => path.join(src, f));
    const { files, packages } = runtimeGraph(roots);
    expect(rel(files)).toContain('miniapp/src/services/transport.ts');
    expect(rel(files)).toContain('sdk/src/index.ts');
    expect(rel(files).filter((f) => f.startsWith('shared/'))).toEqual(['shared/src/identity.ts']);
    expect([...packages].filter((p) => !/^(@tarojs\/|react$|qrcode-generator$)/.test(p))).toEqual([]);
  });
});
