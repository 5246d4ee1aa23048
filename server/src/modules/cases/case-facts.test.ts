import { describe, expect, it } from 'vitest';
import { CaseFactsCache, type CaseFacts } from './case-facts.js';

const facts = (id: string): CaseFacts => ({
  id,
  subjectIds: [`p-${id}`],
  infectiousFrom: new Date(0),
  infectiousTo: new Date(1),
});

describe('CaseFactsCache', () => {
  it('keeps at most `max` cases, dropping the least recently used', () => {
    const cache = new CaseFactsCache(2);
    cache.set(facts('a'));
    cache.set(facts('b'));
    expect(cache.get('a')?.subjectIds).toEqual(['p-a']); // a is now the most recently used
    cache.set(facts('c'));
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('replaces a case set twice without growing', () => {
    const cache = new CaseFactsCache(2);
    cache.set(facts('a'));
    cache.set({ ...facts('a'), subjectIds: ['other'] });
    expect(cache.size).toBe(1);
    expect(cache.get('a')?.subjectIds).toEqual(['other']);
  });
});
