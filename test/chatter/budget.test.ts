// The shared ceilings (src/chatter/budget.ts): past the limit, the newest connection holding more
// than an equal share is closed, until the total fits; small holders are never closed.
import { describe, expect, it } from 'vitest';
import { SharedBudget, type BudgetShare } from '../../src/chatter/budget.ts';

function owners(budget: SharedBudget, n: number): { shares: BudgetShare[]; evicted: string[] } {
  const evicted: string[] = [];
  const shares: BudgetShare[] = [];
  for (let i = 0; i < n; i++) {
    const share: BudgetShare = budget.share({ evict: (reason) => evicted.push(`${i}: ${reason}`) });
    shares.push(share);
  }
  return { shares, evicted };
}

describe('SharedBudget', () => {
  it('closes the newest offender, not the one that happened to cross the line', () => {
    const budget = new SharedBudget('max_input_bytes', 1000);
    const { shares: [good, a, b, c], evicted } = owners(budget, 4) as { shares: BudgetShare[]; evicted: string[] };
    expect(a!.take(400)).toBe(true);
    expect(b!.take(400)).toBe(true);
    expect(c!.take(150)).toBe(true);
    // the oldest connection, holding little, crosses the limit: c is newest but holds less than a share
    expect(good!.take(100)).toBe(true);
    expect(evicted).toEqual(['2: over max_input_bytes (1000 bytes for all connections together): 1050 bytes held, 400 by this connection']);
    expect(budget.total).toBe(650);
    // an evicted share takes nothing more
    expect(b!.take(10)).toBe(false);
    expect(budget.total).toBe(650);
  });

  it('a taker that is itself the newest offender learns it from take()', () => {
    const budget = new SharedBudget('max_output_bytes', 100);
    const { shares: [a, b], evicted } = owners(budget, 2) as { shares: BudgetShare[]; evicted: string[] };
    a!.take(30);
    expect(b!.take(90)).toBe(false);
    expect(evicted).toHaveLength(1);
    expect(budget.total).toBe(30);
    a!.release(30);
    a!.releaseAll();
    expect(budget.total).toBe(0);
    expect(a!.take(5)).toBe(false); // released for good
  });

  it('keeps closing until the total fits', () => {
    const budget = new SharedBudget('max_input_bytes', 100);
    const { shares, evicted } = owners(budget, 5);
    for (const share of shares.slice(0, 4)) share.take(25);
    shares[4]!.take(10); // 110: the newest above the mean (22) is share 3
    expect(evicted.map((e) => e.split(':')[0])).toEqual(['3']);
    expect(budget.total).toBe(85);
  });
});
