import { execFile, spawn } from 'node:child_process';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `pnpm <args>` in the repository root as a child process; resolves (never rejects) with its exit code and output. */
export function runPnpm(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile('pnpm', args, { cwd: REPO_ROOT, env, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** `pnpm -s cli <args>` (scripts/src/cli.ts), e.g. with cliEnv(t) to run on a test app's database. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return runPnpm(['-s', 'cli', ...args], env, timeoutMs);
}

/**
 * The CLI as its own process group, stopped with SIGKILL (pnpm, tsx and node at once) once it prints `marker`:
 * a crash at that point. Resolves with what it printed.
 */
export function killCliAt(args: string[], env: NodeJS.ProcessEnv, marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['-s', 'cli', ...args], { cwd: REPO_ROOT, env, detached: true });
    let out = '';
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`no "${marker}" within 90 s: ${out}`));
    }, 90_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(marker)) {
        clearTimeout(timer);
        process.kill(-child.pid!, 'SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => (out.includes(marker) ? resolve(out) : reject(new Error(`exited early: ${out}`))));
  });
}
