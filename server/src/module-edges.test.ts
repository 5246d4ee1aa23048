import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const config = path.join(root, '.dependency-cruiser.cjs');
const depcruise = path.join(root, 'node_modules/.bin/depcruise');

/** Runs the module-edge rules of `pnpm lint` on `dir` (as the repository root); the violations found. */
async function violations(dir: string): Promise<string[]> {
  const args = ['server/src', '--config', config, '--output-type', 'err-long'];
  try {
    await promisify(execFile)(depcruise, args, { cwd: dir });
    return [];
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout);
    return [...out.matchAll(/error (\S+):/g)].map((m) => m[1]!);
  }
}

describe('module edges (pnpm lint)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function tree(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-edges-'));
    dirs.push(dir);
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
    return dir;
  }

  it('the server has none that break the rules', async () => {
    expect(await violations(root)).toEqual([]);
  });

  it("fails on a module importing another module's repository", async () => {
    const dir = await tree({
      'server/src/modules/a/a.service.ts':
        "import { findB } from '../b/b.repository.js';\nexport const a = findB;\n",
      'server/src/modules/b/b.repository.ts': 'export const findB = 1;\n',
    });
    expect(await violations(dir)).toEqual(['no-foreign-repository']);
  });

  it('fails on an import cycle', async () => {
    const dir = await tree({
      'server/src/modules/a/a.service.ts':
        "import { b } from '../b/b.service.js';\nexport const a = () => b;\n",
      'server/src/modules/b/b.service.ts':
        "import { a } from '../a/a.service.js';\nexport const b = () => a;\n",
    });
    expect(await violations(dir)).toEqual(['no-circular']);
  });

  it('fails on a service importing routes, and on app code reaching a repository', async () => {
    const dir = await tree({
      'server/src/modules/a/a.service.ts': "import { r } from './a.routes.js';\nexport const s = r;\n",
      'server/src/modules/a/a.routes.ts': 'export const r = 1;\n',
      'server/src/modules/a/a.repository.ts': 'export const q = 1;\n',
      'server/src/app.ts': "import { q } from './modules/a/a.repository.js';\nexport const app = q;\n",
    });
    expect((await violations(dir)).sort()).toEqual([
      'no-repository-outside-modules',
      'no-routes-from-services',
    ]);
  });
});
