import { spawn } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { MINIAPP } from './paths.js';

/**
 * Runs `taro build` of the mini-program into `outDir` (not dist/, so a developer's build is left alone).
 * `api` overrides TARO_APP_API of .env.production: the h5 build talks to the test server.
 */
export async function taroBuild(type: 'h5' | 'weapp', outDir: string, api?: string): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, RIDETRACE_MINIAPP_OUT: outDir, NODE_ENV: 'production' };
  if (api) env.TARO_APP_API = api;
  // vitest sets these for its workers; Taro must not see a test environment.
  delete env.VITEST;
  delete env.TEST;
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('pnpm', ['exec', 'taro', 'build', '--type', type], {
      cwd: MINIAPP,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0)
    throw new Error(`taro build --type ${type} failed (${code}):\n${output.join('').slice(-4000)}`);
}

export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Total bytes of the files under `dir`. */
export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const f of await listFiles(dir)) total += (await stat(f)).size;
  return total;
}

/** Sum of the gzip sizes (level 9) of the files a browser loads: html, js, css. */
export async function gzipSize(dir: string): Promise<{ raw: number; gzip: number }> {
  let raw = 0;
  let gzip = 0;
  for (const f of await listFiles(dir)) {
    if (!/\.(html|js|css)$/.test(f)) continue;
    const buf = await readFile(f);
    raw += buf.length;
    gzip += gzipSync(buf, { level: 9 }).length;
  }
  return { raw, gzip };
}
