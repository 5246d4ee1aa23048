/**
 * What a trace needs of a case: the passengers it names and its infectious window. Both are fixed when the case is
 * opened (closing changes only the status), so each process keeps the most recently used ones and a trace of a known
 * case starts with its co-passenger query instead of a read of the case. The purge deletes closed cases at the end of
 * their retention and tells every process to drop them (cache-events.ts).
 */
export interface CaseFacts {
  id: string;
  subjectIds: readonly string[];
  infectiousFrom: Date;
  infectiousTo: Date;
}

/** A bounded map of case facts, least recently used out first. */
export class CaseFactsCache {
  private readonly entries = new Map<string, CaseFacts>();

  constructor(private readonly max = 10_000) {}

  get(id: string): CaseFacts | undefined {
    const facts = this.entries.get(id);
    if (facts) {
      // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
      this.entries.delete(id);
      this.entries.set(id, facts);
    }
    return facts;
  }

  set(facts: CaseFacts): void {
    this.entries.delete(facts.id);
    this.entries.set(facts.id, facts);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
