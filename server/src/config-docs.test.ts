import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

/** Environment variables config.ts reads: `env.NAME`, `int(env, 'NAME', …)`. */
function settingsRead(): Set<string> {
  const source = readFileSync(path.join(import.meta.dirname, 'config.ts'), 'utf8');
  const names = [...source.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]+)|, '([A-Z][A-Z0-9_]+)')/g)].map(
    (m) => m[1] ?? m[2]!,
  );
  return new Set(names);
}

/** Variables named in the first column of README's configuration table. */
function settingsDocumented(): Set<string> {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'));
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  return new Set(
    rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)),
  );
}

describe('configuration is documented from one source', () => {
  it('README lists every setting config.ts reads', () => {
    const documented = settingsDocumented();
    expect([...settingsRead()].filter((n) => !documented.has(n))).toEqual([]);
  });

  it('README lists no setting that config.ts does not read', () => {
    const read = settingsRead();
    expect(read.size).toBeGreaterThan(40);
    expect([...settingsDocumented()].filter((n) => !read.has(n))).toEqual([]);
  });
});
