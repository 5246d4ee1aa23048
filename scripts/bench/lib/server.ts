import { freePort } from '@ridetrace/server';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ServerChild {
  url: string;
  port: number;
  pid: number;
  env: Record<string, string>;
  stop(): Promise<void>;
}

const serverDir = fileURLToPath(new URL('../../../server/', import.meta.url));

/**
 * The RideTrace server as a child process (`node --import tsx src/main.ts` in server/), so the load generator
 * in this process does not share its event loop. Waits until it prints its listening line.
 */
export async function startServer(
  env: Record<string, string>,
  log: (m: string) => void,
  nodeArgs: string[] = [],
): Promise<ServerChild> {
  const port = await freePort();
  const fullEnv = { ...env, PORT: String(port), HOST: '127.0.0.1' };
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...fullEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stopOnExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnExit);
  let tail = '';
  const keep = (c: Buffer) => {
    tail = (tail + c.toString()).slice(-4000);
  };
  child.stderr!.on('data', (c: Buffer) => {
    keep(c);
    for (const line of c.toString().split('\n')) if (line.trim()) log(`[server] ${line.slice(0, 300)}`);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${tail}`)), 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      keep(c);
      if (tail.includes('RideTrace server listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited during start (${code}):\n${tail}`));
    });
  });
  // The server logs JSON lines (pino) on stdout: its warnings and errors go to the bench log, the rest is dropped.
  let partial = '';
  child.stdout!.on('data', (c: Buffer) => {
    const lines = (partial + c.toString()).split('\n');
    partial = lines.pop()!.slice(-4000);
    for (const line of lines) {
      if (!/"level":\s*[4-6]\d/.test(line)) continue;
      let msg = line;
      try {
        const j = JSON.parse(line) as { msg?: unknown; err?: { message?: unknown } };
        msg = `${String(j.msg ?? '')}${j.err?.message ? `: ${String(j.err.message)}` : ''}`;
      } catch {
        // not JSON: shown as it is
      }
      log(`[server] ${msg.slice(0, 300)}`);
    }
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    env: fullEnv,
    stop: async () => {
      process.off('exit', stopOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
}
