import { bulk, createDb, hmac, Keyring, loadConfig, open, resolveMasterKeys, seal } from '@ridetrace/server';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { CopyBinaryWriter } from './copy-binary.js';
import { pick, prng } from '../../src/demo-people.js';
import {
  buildTable,
  loadedPerson,
  uuidAt,
  type DayJob,
  type JobDone,
  type LoadJob,
  type LoadPlan,
  type RideSample,
  type WorkerMessage,
} from './load-plan.js';

/**
 * A loader worker: encrypts and encodes rides (one UTC day per job) or passengers (a range per job) exactly as
 * the server writes them, with the server's own crypto and identity helpers, and streams them with binary COPY
 * over its own connection.
 */
const plan = workerData as LoadPlan;
const ids = new Uint8Array(plan.passengerIds);
const idCache: (string | undefined)[] = new Array<string | undefined>(plan.passengers);
const passengerId = (i: number): string => (idCache[i] ??= uuidAt(ids, i));

const config = loadConfig({
  NODE_ENV: 'development',
  DATABASE_URL: plan.databaseUrl,
  RIDETRACE_MASTER_KEYS: plan.masterKey,
});
const db = createDb({ connectionString: plan.databaseUrl, max: 1, statementTimeoutMillis: 0 });
const masterKeys = resolveMasterKeys(config, (m) => console.error(m));
const keyring = await Keyring.load(db, masterKeys);
const client = new pg.Client({ connectionString: plan.databaseUrl });
await client.connect();

const CHUNK_BYTES = 1 << 22;

/** Streams the chunks that `produce` yields into one COPY statement. */
async function copy(sqlText: string, produce: () => Generator<Buffer>): Promise<void> {
  const stream = client.query(copyStreams.from(sqlText));
  await pipeline(Readable.from(produce(), { objectMode: false }), stream);
}

const RIDE_COLUMNS =
  'id, carrier_id, boarded_at, passenger_key, passenger_sealed, source, late, flagged, received_at, registered_by';

/** The day's rides, ordered by boarding time (the order scans arrive in). */
function ridesOfDay(job: DayJob) {
  const rnd = prng(plan.seed * 1_000_003 + job.dayIndex);
  const dayStart = Date.parse(job.from);
  const crowded = plan.crowdedCarriers.length * plan.crowdedHours.length * plan.crowdedPerHour;
  const n = job.normalRides + crowded;
  const person = new Int32Array(n);
  const carrier = new Int32Array(n);
  const at = new Float64Array(n);
  const isCrowded = new Uint8Array(n);
  let k = 0;
  // Commuters: two rides a day (out and back, on different carriers); odd counts end with a single ride.
  for (let i = 0; i < job.normalRides; i += 2) {
    const p = Math.floor(rnd() * plan.passengers);
    const t1 = dayStart + (5 + rnd() * 9) * 3_600_000;
    person[k] = p;
    carrier[k] = pick(rnd, plan.normalCarriers);
    at[k++] = Math.floor(t1);
    if (i + 1 < job.normalRides) {
      person[k] = p;
      carrier[k] = pick(rnd, plan.normalCarriers);
      at[k++] = Math.floor(Math.min(t1 + (1 + rnd() * 9) * 3_600_000, dayStart + 86_399_000));
    }
  }
  // The crowded set: `crowdedPerHour` riders on every crowded carrier in every service hour.
  for (const c of plan.crowdedCarriers) {
    for (const h of plan.crowdedHours) {
      for (let r = 0; r < plan.crowdedPerHour; r++) {
        person[k] = Math.floor(rnd() * plan.passengers);
        carrier[k] = c;
        isCrowded[k] = 1;
        at[k++] = Math.floor(dayStart + (h + rnd()) * 3_600_000);
      }
    }
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => at[a]! - at[b]!);
  return { n, person, carrier, at, isCrowded, order, rnd };
}

async function loadDay(job: DayJob): Promise<Omit<JobDone, 'type' | 'id' | 'ms'>> {
  const { n, person, carrier, at, isCrowded, order, rnd } = ridesOfDay(job);
  const key = await keyring.dayKey(db, job.day);
  // The server's own seal (its nonces come from a CSPRNG pool, so it is as fast as a bulk variant would be).
  const sealRide = (pid: string, aad: string) => seal(key.seal, pid, aad);
  // Same blind index for both rides of a commuter's day: computed once.
  const keys = new Map<number, Buffer>();
  const w = new CopyBinaryWriter(CHUNK_BYTES + 4096);
  function* produce(): Generator<Buffer> {
    w.header();
    for (let j = 0; j < n; j++) {
      const i = order[j]!;
      const p = person[i]!;
      const pid = passengerId(p);
      let pkey = keys.get(p);
      if (!pkey) {
        pkey = hmac(key.index, pid);
        keys.set(p, pkey);
      }
      const id = randomUUID();
      const aad = `rides/passenger/${id}`;
      const sealed = sealRide(pid, aad);
      // The server must be able to open what we write: checked with its own `open` on the first rides of a day.
      if (j < 64 && open(key.seal, sealed, aad).toString('utf8') !== pid)
        throw new Error('sealed ride does not open');
      const boarded = at[i]!;
      w.row(10)
        .uuid(id)
        .int4(carrier[i]!)
        .timestamptz(boarded)
        .bytes(pkey)
        .bytes(sealed)
        .text('scan')
        .bool(false)
        .bool(false)
        .timestamptz(boarded + 200 + Math.floor(rnd() * 1500))
        .null();
      if (w.length >= CHUNK_BYTES) yield w.take();
    }
    w.trailer();
    yield w.take();
  }
  if (job.target === 'new' || job.target === 'rebuild') {
    const t = buildTable(job);
    await client.query('begin');
    try {
      // Made in the COPY's transaction for COPY FREEZE; the range check spares ATTACH PARTITION its scan. A rebuilt
      // day copies its partition's shape: `like rides` would hold a lock on rides that the swap must wait for.
      const like = job.target === 'rebuild' ? job.table : 'rides';
      await client.query(
        `create table ${t} (like ${like} including defaults including constraints,
           constraint ${t}_range check (boarded_at >= '${job.from}' and boarded_at < '${job.to}'))`,
      );
      await copy(`copy ${t} (${RIDE_COLUMNS}) from stdin with (format binary, freeze)`, produce);
      // The day's earlier rides join the new ones: the day table is then built as one load of both would build it.
      if (job.target === 'rebuild') await client.query(`insert into ${t} select * from ${job.table}`);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    }
  } else {
    await copy(`copy ${job.table} (${RIDE_COLUMNS}) from stdin with (format binary)`, produce);
  }
  const sample = (crowded: boolean): RideSample[] => {
    const out: RideSample[] = [];
    for (let tries = 0; out.length < plan.samplesPerDay && tries < plan.samplesPerDay * 50; tries++) {
      const i = Math.floor(rnd() * n);
      if ((isCrowded[i] === 1) !== crowded) continue;
      out.push({ passengerIndex: person[i]!, carrierId: carrier[i]!, boardedAtMs: at[i]! });
    }
    return out;
  };
  return { rows: n, normal: sample(false), crowded: sample(true) };
}

const PASSENGER_COLUMNS =
  'id, kind, subject_index, dek_master_key_id, dek_wrapped, name_sealed, phone_sealed, id_number_sealed, ' +
  'phone_index, id_number_index, consent_version, consented_at, created_at, updated_at, phone_source';

async function loadPassengers(from: number, to: number): Promise<number> {
  const w = new CopyBinaryWriter(CHUNK_BYTES + 4096);
  const now = Date.now();
  function* produce(): Generator<Buffer> {
    w.header();
    for (let i = from; i < to; i++) {
      const id = passengerId(i);
      const who = loadedPerson(plan.firstPerson + i);
      const key = bulk.newPassengerKey(keyring, id);
      const sealed = bulk.sealIdentity(keyring, key.dek, id, { name: who.name, phone: who.phone });
      const openId = `dev-${who.login.slice(4)}`; // what DevSuperAppLogin returns for this login code
      w.row(15)
        .uuid(id)
        .text('app')
        .bytes(keyring.blindIndex('subject', `dev:${openId}`))
        .text(key.columns.dek_master_key_id)
        .bytes(key.columns.dek_wrapped)
        .bytes(sealed.name_sealed)
        .bytes(sealed.phone_sealed)
        .null()
        .bytes(sealed.phone_index)
        .null()
        .text(plan.consentVersion)
        .timestamptz(now)
        .timestamptz(now)
        .timestamptz(now)
        // The phone the super-app gave: a verified number, which SMS notices go to.
        .text('superapp');
      if (w.length >= CHUNK_BYTES) yield w.take();
    }
    w.trailer();
    yield w.take();
  }
  await copy(`copy passengers (${PASSENGER_COLUMNS}) from stdin with (format binary)`, produce);
  return to - from;
}

async function run(job: LoadJob): Promise<JobDone> {
  const started = performance.now();
  if (job.type === 'passengers') {
    const rows = await loadPassengers(job.from, job.to);
    return { type: 'done', id: job.id, rows, ms: performance.now() - started, normal: [], crowded: [] };
  }
  const r = await loadDay(job);
  return { type: 'done', id: job.id, ms: performance.now() - started, ...r };
}

const port = parentPort!;
port.on('message', (msg: LoadJob | { type: 'exit' }) => {
  if (msg.type === 'exit') {
    void Promise.all([client.end(), db.destroy()]).finally(() => port.close());
    return;
  }
  run(msg).then(
    (done) => port.postMessage(done satisfies WorkerMessage),
    (err: unknown) =>
      port.postMessage({
        type: 'error',
        message: (err as Error).stack ?? String(err),
      } satisfies WorkerMessage),
  );
});
port.postMessage({ type: 'ready' } satisfies WorkerMessage);
