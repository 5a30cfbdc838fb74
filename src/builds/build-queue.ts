/**
 * A FIFO of jobs with a cap on how many run at once and how many may wait. Jobs are started
 * on the next turn of the event loop, never inside add(), so the caller can answer its
 * request before anything runs.
 */
export class BuildQueue<Job> {
  private readonly waiting: Job[] = [];
  private running = 0;

  constructor(
    private readonly maxRunning: number,
    private readonly maxWaiting: number,
    private readonly start: (job: Job) => void,
  ) {}

  /** Whether add() would take another job now. */
  get hasRoom(): boolean {
    return this.running + this.waiting.length < this.maxRunning + this.maxWaiting;
  }

  get runningCount(): number {
    return this.running;
  }

  get waitingJobs(): readonly Job[] {
    return this.waiting;
  }

  /** Takes a job; false when it has no room. */
  add(job: Job): boolean {
    if (!this.hasRoom) return false;
    this.waiting.push(job);
    setImmediate(() => this.startNext());
    return true;
  }

  /** Takes a waiting job out; false when it is not waiting (already started, or unknown). */
  remove(job: Job): boolean {
    const index = this.waiting.indexOf(job);
    if (index === -1) return false;
    this.waiting.splice(index, 1);
    return true;
  }

  /** A started job is over: its slot goes to the next waiting job. */
  finished(): void {
    this.running -= 1;
    this.startNext();
  }

  private startNext(): void {
    while (this.running < this.maxRunning && this.waiting.length > 0) {
      this.running += 1;
      this.start(this.waiting.shift()!);
    }
  }
}
