/**
 * Open event streams per caller on this node. Each stream holds a connection and polls the database
 * every second, so one API key or user (a script reconnecting in a loop, a client that never closes)
 * must not open them without bound. Counted in memory, like the per-key rate limit: each node counts
 * its own.
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly perCaller: number) {}

  /** Takes one of `caller`'s slots and returns its release (safe to call twice), or undefined when all are taken. */
  claim(caller: string): (() => void) | undefined {
    const taken = this.open.get(caller) ?? 0;
    if (taken >= this.perCaller) return undefined;
    this.open.set(caller, taken + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(caller) ?? 1) - 1;
      if (left > 0) this.open.set(caller, left);
      else this.open.delete(caller);
    };
  }
}
