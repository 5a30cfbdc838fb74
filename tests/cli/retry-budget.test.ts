import { RetryBudget } from '../../src/cli/retry-budget.js';

/** A budget on a clock that moves only when the test says so. */
function budgetAt(retryForMs: number): { budget: RetryBudget; advance(ms: number): void } {
  let nowMs = 1000;
  return { budget: new RetryBudget(retryForMs, () => nowMs), advance: (ms) => (nowMs += ms) };
}

describe('RetryBudget', () => {
  it('doubles its waits from 250 ms up to 5 s', () => {
    const { budget, advance } = budgetAt(120000);
    const delays: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const delay = budget.nextDelayMs()!;
      delays.push(delay);
      advance(delay);
    }
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });

  it("waits at least what the server asked for (Retry-After, retry:), up to a minute", () => {
    const { budget } = budgetAt(600000);
    expect(budget.nextDelayMs(5000)).toBe(5000);
    expect(budget.nextDelayMs(100)).toBe(500);
    expect(budget.nextDelayMs(3600000)).toBe(60000);
  });

  it('gives up when the next wait would end past the budget', () => {
    const { budget, advance } = budgetAt(1000);
    expect(budget.nextDelayMs()).toBe(250);
    advance(250);
    expect(budget.nextDelayMs()).toBe(500);
    advance(500);
    expect(budget.nextDelayMs()).toBeNull();
  });

  it('never retries with a budget of zero', () => {
    expect(budgetAt(0).budget.nextDelayMs()).toBeNull();
  });

  it('starts a new outage after a success', () => {
    const { budget, advance } = budgetAt(1000);
    budget.nextDelayMs();
    advance(900);
    budget.succeeded();
    advance(60000);
    expect(budget.nextDelayMs()).toBe(250);
  });
});
