const DAY_MS = 86_400_000;

/** From `sinceMs` on (-Infinity: the beginning), ride days are calendar days in `timeZone`. */
export interface DayEra {
  sinceMs: number;
  timeZone: string;
}

interface Era extends DayEra {
  /** The era's first day (its `since` is that day's midnight); '' for the first era. */
  firstDay: string;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatOf(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(timeZone, f);
  }
  return f;
}

function wallClock(ms: number, timeZone: string): { day: string; asUtcMs: number } {
  const p: Record<string, string> = {};
  for (const part of formatOf(timeZone).formatToParts(ms)) p[part.type] = part.value;
  const [y, m, d] = [Number(p.year), Number(p.month), Number(p.day)];
  return {
    day: `${p.year}-${p.month}-${p.day}`,
    asUtcMs: Date.UTC(y, m - 1, d, Number(p.hour), Number(p.minute), Number(p.second)),
  };
}

/** Calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function calendarDay(ms: number, timeZone: string): string {
  if (timeZone === 'UTC') return new Date(ms).toISOString().slice(0, 10);
  return wallClock(ms, timeZone).day;
}

/** The instant a calendar day starts in a time zone (its first existing minute where a DST change skips midnight). */
export function midnightOf(day: string, timeZone: string): number {
  const base = Date.parse(`${day}T00:00:00Z`);
  if (timeZone === 'UTC') return base;
  const offset = (ms: number) => wallClock(ms, timeZone).asUtcMs - Math.floor(ms / 1000) * 1000;
  let t = base - offset(base);
  t = base - offset(t);
  return calendarDay(t, timeZone) < day ? t + 3600_000 : t;
}

/** Calendar arithmetic on YYYY-MM-DD. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Ride days: the unit of day keys, partitions and the purge. Calendar days of the deployment's time zone, counted
 * in eras so a database that began with UTC days keeps them: an era starts at a midnight of its zone, and the day
 * before it belongs to the previous era however long that makes it (no day name is ever used twice).
 */
export class RideDays {
  private eras: Era[] = [];
  /** The last day looked up and its bounds: nearly every call asks for the day of the call before. */
  private cache = { fromMs: 0, toMs: 0, day: '' };
  /** Day starts already computed (every scan asks for those of the days around it; Intl is slow). */
  private starts = new Map<string, number>();

  constructor(eras: DayEra[]) {
    this.update(eras);
  }

  /** Another process recorded a new era (a changed TIME_ZONE): every later lookup uses it. */
  update(eras: DayEra[]): void {
    if (eras.length === 0) throw new Error('ride days need at least one era');
    this.eras = eras.map((e, i) => ({ ...e, firstDay: i === 0 ? '' : calendarDay(e.sinceMs, e.timeZone) }));
    this.cache = { fromMs: 0, toMs: 0, day: '' };
    this.starts = new Map();
  }

  /** The zone of the newest era: the one that counts today's rides (or will, from its first day). */
  get timeZone(): string {
    return this.eras.at(-1)!.timeZone;
  }

  get eraList(): readonly DayEra[] {
    return this.eras.map(({ sinceMs, timeZone }) => ({ sinceMs, timeZone }));
  }

  /** The ride day of an instant. */
  of(t: Date): string {
    const ms = t.getTime();
    const c = this.cache;
    if (ms >= c.fromMs && ms < c.toMs) return c.day;
    let i = this.eras.length - 1;
    while (i > 0 && ms < this.eras[i]!.sinceMs) i--;
    let day = calendarDay(ms, this.eras[i]!.timeZone);
    const next = this.eras[i + 1];
    if (next && day >= next.firstDay) day = addDays(next.firstDay, -1);
    this.cache = { fromMs: this.startMs(day), toMs: this.startMs(addDays(day, 1)), day };
    return day;
  }

  /** When a ride day starts. */
  startMs(day: string): number {
    let start = this.starts.get(day);
    if (start === undefined) {
      let i = this.eras.length - 1;
      while (i > 0 && day < this.eras[i]!.firstDay) i--;
      const era = this.eras[i]!;
      start = Math.max(midnightOf(day, era.timeZone), era.sinceMs);
      if (this.starts.size >= 4096) this.starts.clear();
      this.starts.set(day, start);
    }
    return start;
  }

  /** A ride day as the half-open range [from, to) its partition holds. */
  bounds(day: string): { from: Date; to: Date } {
    return { from: new Date(this.startMs(day)), to: new Date(this.startMs(addDays(day, 1))) };
  }

  /** Every ride day touching [from, to]. */
  between(from: Date, to: Date): string[] {
    const days = [this.of(from)];
    const c = this.cache;
    // Nearly always: the range ends on the day it starts (the day just looked up).
    if (days[0] === c.day && to.getTime() < c.toMs) return days;
    for (let d = addDays(days[0]!, 1); this.startMs(d) <= to.getTime(); d = addDays(d, 1)) days.push(d);
    return days;
  }

  /** The day `days` ride days before the day of `now` counts as the first kept one: older days are purged. */
  cutoff(now: Date, retentionDays: number): string {
    return addDays(this.of(now), -(retentionDays - 1));
  }
}

/**
 * The era that switches an existing calendar to `timeZone`: it starts at the first midnight of the new zone after
 * `lastDay` (the latest day that already has a partition or key, or tomorrow), so every existing day keeps its
 * name and bounds except `lastDay`, which ends at the new midnight.
 */
export function nextEra(lastDay: string, timeZone: string): DayEra {
  return { sinceMs: midnightOf(addDays(lastDay, 1), timeZone), timeZone };
}
