/**
 * Set-up that registers its own hooks: call one at the top of a file (or of a describe block) and use what it
 * returns in tests and later hooks. Each returns handles that stand for the real objects, which beforeAll builds
 * and afterAll closes; touching a handle outside a test or hook throws.
 */
import { afterAll, beforeAll } from 'vitest';
import type { FakeGateway } from './fake-notify.js';
import { createNotifyTestApp } from './flows.js';
import {
  createSharedDatabase,
  createTestApp,
  createTestDatabase,
  seedWorld,
  type SharedDatabase,
  type TestApp,
  type TestDatabase,
  type World,
} from './test-app.js';

/** A stand-in for an object that a hook fills in later; every property access goes to the current object. */
interface Lazy<T extends object> {
  readonly handle: T;
  fill(value: T | undefined): void;
  readonly current: T | undefined;
}

function lazy<T extends object>(what: string): Lazy<T> {
  let current: T | undefined;
  const real = (): T => {
    if (current === undefined) throw new Error(`${what} is not built yet: use it inside a test or a hook`);
    return current;
  };
  const handle = new Proxy({} as T, {
    // Awaiting or printing an unfilled handle must not throw.
    get: (_, key) =>
      current === undefined && (key === 'then' || typeof key === 'symbol')
        ? undefined
        : Reflect.get(real(), key),
    set: (_, key, value) => Reflect.set(real(), key, value),
    has: (_, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(real(), key);
      return d && { ...d, configurable: true };
    },
  });
  return {
    handle,
    fill: (value) => (current = value),
    get current() {
      return current;
    },
  };
}

/** What `build` makes before all tests, `close`d after all of them. */
function useBuilt<T extends object>(
  what: string,
  build: () => Promise<T>,
  close: (value: T) => Promise<unknown>,
): T {
  const x = lazy<T>(what);
  beforeAll(async () => x.fill(await build()));
  afterAll(async () => {
    const value = x.current;
    x.fill(undefined);
    if (value) await close(value);
  });
  return x.handle;
}

/** A test app on a fresh database (createTestApp with `env` on top of the test defaults), closed after all. */
export function useTestApp(env: Record<string, string> = {}): TestApp {
  return useBuilt(
    'the test app',
    () => createTestApp(env),
    (t) => t.close(),
  );
}

/** useTestApp and the standard world (seedWorld: two operators, a client of every role, their tokens). */
export function useWorld(env: Record<string, string> = {}): { t: TestApp; w: World } {
  const t = useTestApp(env);
  const w = lazy<World>('the world');
  beforeAll(async () => w.fill(await seedWorld(t)));
  afterAll(() => w.fill(undefined));
  return { t, w: w.handle };
}

/**
 * useWorld whose notification worker sends to fake message and SMS gateways (createNotifyTestApp): `message`
 * makes the message gateway fail its first calls.
 */
export function useNotifyWorld(
  env: Record<string, string> = {},
  message: { failFirst?: number } = {},
): { t: TestApp; w: World; msg: FakeGateway; sms: FakeGateway } {
  const t = lazy<TestApp>('the test app');
  const w = lazy<World>('the world');
  const msg = lazy<FakeGateway>('the message gateway');
  const sms = lazy<FakeGateway>('the SMS gateway');
  beforeAll(async () => {
    const made = await createNotifyTestApp(env, message);
    t.fill(made.t);
    w.fill(made.w);
    msg.fill(made.msg);
    sms.fill(made.sms);
  });
  afterAll(async () => {
    await t.current?.close();
    for (const x of [t, w, msg, sms] as Lazy<object>[]) x.fill(undefined);
  });
  return { t: t.handle, w: w.handle, msg: msg.handle, sms: sms.handle };
}

/** One database and fake super-app for several servers (createSharedDatabase); every server closed after all. */
export function useSharedDatabase(): SharedDatabase {
  return useBuilt('the shared database', createSharedDatabase, (shared) => shared.close());
}

/** A fresh database cloned from the migrated template (createTestDatabase), dropped after all. */
export function useTestDatabase(): TestDatabase {
  return useBuilt('the test database', createTestDatabase, (database) => database.drop());
}

/** What a test must undo (processes, pools, temp directories), undone in reverse order even after a failure. */
export class Cleanup {
  private readonly steps: (() => Promise<unknown>)[] = [];
  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.reverse())
      await step().catch((err: unknown) => console.error('cleanup:', err));
    this.steps.length = 0;
  }
}

/** A Cleanup that runs after all tests of the file (or describe block). */
export function useCleanup(): Cleanup {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());
  return cleanup;
}
