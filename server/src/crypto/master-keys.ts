import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';

export interface MasterKeys {
  readonly keys: ReadonlyMap<string, Buffer>;
  readonly activeId: string;
  /** Where the keys came from, for the start-up message. */
  readonly source: 'env' | 'file' | 'generated-dev-file';
}

function parseKeyLines(text: string, origin: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [id, b64] = line.includes(':') ? line.split(':') : ['k1', line];
    const key = Buffer.from(b64 ?? '', 'base64');
    if (!id || key.length !== 32) throw new Error(`${origin}: each line must be "id:base64(32 bytes)"`);
    keys.set(id, key);
  }
  if (keys.size === 0) throw new Error(`${origin}: no master key found`);
  return keys;
}

/**
 * Master keys from env, else from RIDETRACE_MASTER_KEY_FILE, else (development and test only)
 * from `.data/master.key`, generated on first start. Production never generates a key.
 */
export function resolveMasterKeys(config: Config, warn: (msg: string) => void): MasterKeys {
  if (config.masterKeys && config.activeMasterKeyId) {
    return { keys: config.masterKeys, activeId: config.activeMasterKeyId, source: 'env' };
  }
  if (config.masterKeyFile) {
    const keys = parseKeyLines(readFileSync(config.masterKeyFile, 'utf8'), config.masterKeyFile);
    return { keys, activeId: [...keys.keys()].at(-1)!, source: 'file' };
  }
  if (config.mode === 'production') throw new Error('production mode requires a master key');
  const file = path.join(config.dataDir, 'master.key');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, `k1:${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    warn(
      `!!! DEV MODE: generated a new master key at ${file}. Anyone with this file can read the data. ` +
        'Never use it in production: set RIDETRACE_MASTER_KEY or RIDETRACE_MASTER_KEY_FILE. !!!',
    );
  } else {
    warn(`!!! DEV MODE: using the development master key at ${file}; not for production. !!!`);
  }
  const keys = parseKeyLines(readFileSync(file, 'utf8'), file);
  return { keys, activeId: [...keys.keys()].at(-1)!, source: 'generated-dev-file' };
}
