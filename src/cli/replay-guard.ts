/**
 * Decides which events of a `?build=` stream are new, so that no line is printed twice. The
 * stream is the build's events in a fixed order; a resume continues it, and a `reset` (the
 * server could not use our Last-Event-ID) restarts it from the build's first event. So the
 * guard counts events since the start or the last reset, and lets one through only when the
 * count passes what was already handed on. Ids stay opaque: only their order matters.
 */
export class ReplayGuard {
  /** Events of the stream seen since its start or the last reset. */
  private position = 0;
  /** The highest position handed on so far. */
  private handed = 0;

  /** A `reset` arrived: the server replays the whole build next. */
  reset(): void {
    this.position = 0;
  }

  /** Counts one event (anything but `reset`); true when it was not handed on before. */
  isNew(): boolean {
    this.position += 1;
    if (this.position <= this.handed) return false;
    this.handed = this.position;
    return true;
  }

  /** How many events have been handed on. */
  get handedCount(): number {
    return this.handed;
  }
}
