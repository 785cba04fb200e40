/**
 * The emulator's own timers (latency, drip, delayed resets), all cancelled by `close()` so a
 * closed emulator leaves nothing behind to keep the process alive.
 */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Set<(awake: boolean) => void>();
  private closedFlag = false;

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Runs `fn` after `ms`, unless closed first. */
  later(ms: number, fn: () => void): void {
    if (this.closedFlag) return;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    this.pending.add(timer);
  }

  /** Resolves true after `ms`, or false as soon as the timers are closed. */
  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closedFlag) {
        resolve(false);
        return;
      }
      const wake = (awake: boolean): void => {
        this.sleepers.delete(wake);
        resolve(awake);
      };
      this.sleepers.add(wake);
      this.later(ms, () => wake(true));
    });
  }

  /** Cancels every timer and wakes every sleeper with false. */
  close(): void {
    this.closedFlag = true;
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
    for (const wake of this.sleepers) wake(false);
    this.sleepers.clear();
  }
}
