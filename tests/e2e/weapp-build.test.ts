import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { dirSize, listFiles, taroBuild } from './support/taro-build.js';

/** WeChat refuses a main package over 2 MB; our budget is 600 KB. */
const MAIN_PACKAGE_BUDGET = 600 * 1024;

let out: string | undefined;
afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

it('builds the weapp within 600 KB, with no runtime code generation and no TypeBox', async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'ridetrace-weapp-'));
  await taroBuild('weapp', out);
  const files = await listFiles(out);
  for (const page of [
    'scan',
    'confirm',
    'pass',
    'status',
    'itinerary',
    'inbox',
    'settings',
    'export',
    'staff',
  ])
    expect(files).toContain(path.join(out, 'pages', page, 'index.js'));
  const size = await dirSize(out);
  console.log(`weapp build: ${(size / 1024).toFixed(1)} KiB in ${files.length} files (budget 600 KiB)`);
  expect(size).toBeLessThanOrEqual(MAIN_PACKAGE_BUDGET);

  const js = (await Promise.all(files.filter((f) => f.endsWith('.js')).map((f) => readFile(f, 'utf8')))).join(
    '\n',
  );
  // Mini-programs forbid eval and new Function: neither may appear in what we ship.
  expect(js).not.toMatch(/\beval\s*\(/);
  expect(js).not.toMatch(/\bnew\s+Function\s*\(/);
  // From @ridetrace/shared only the TypeBox-free identity rules ship: its schemas' runtime must not be bundled.
  expect(js).not.toMatch(/TypeCompiler|sinclair|TypeBox/);
});
