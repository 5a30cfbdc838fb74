/**
 * A moment that may be set once and then passes by itself: `passed` resolves when it does.
 * Code that waits on something unbounded races it against `passed`.
 */
export class Deadline {
  readonly passed: Promise<void>;
  private resolvePassed!: () => void;
  private timer: NodeJS.Timeout | null = null;
  private isArmed = false;

  constructor() {
    this.passed = new Promise((resolve) => {
      this.resolvePassed = resolve;
    });
  }

  /** Sets the deadline delayMs from now (once; later calls keep the first), calling onPass when it passes. */
  arm(delayMs: number, onPass: () => void = () => {}): void {
    if (this.isArmed) return;
    this.isArmed = true;
    this.timer = setTimeout(() => {
      this.timer = null;
      onPass();
      this.resolvePassed();
    }, delayMs);
  }

  /** Releases the timer (its owner is over); `passed` then never resolves. */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
