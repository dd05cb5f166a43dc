// A memory ceiling shared by all the connections of a listener: bytes received but not yet
// handled, or bytes queued for clients that read slowly. Each connection holds a share. When a
// connection's take pushes the total past the limit, the newest offender is closed — the most
// recently opened connection that holds more than an equal share of the total — until the total
// fits again. A client that holds little (one small request, a reply being written) is never an
// offender, so an attacker opening many connections cannot push out the clients already there.

export interface BudgetOwner {
  /** Closes the owner at once (its share is released when it closes) and logs `reason`. */
  evict(reason: string): void;
}

export class SharedBudget {
  total = 0;
  readonly #holders = new Set<BudgetShare>();
  #opened = 0;

  /** `name` is the configuration key of the limit, used in close reasons. */
  constructor(
    readonly name: string,
    readonly limit: number,
  ) {
    if (!(limit > 0)) throw new RangeError(`${name} must be positive, got ${limit}`);
  }

  /** A share for a connection opened now (later shares are newer). */
  share(owner: BudgetOwner): BudgetShare {
    return new BudgetShare(this, owner, ++this.#opened);
  }

  /** @internal bookkeeping of BudgetShare */
  changed(share: BudgetShare, delta: number): void {
    this.total += delta;
    if (share.held > 0) this.#holders.add(share);
    else this.#holders.delete(share);
  }

  /** @internal closes newest offenders until the total fits */
  enforce(): void {
    while (this.total > this.limit) {
      const fair = this.total / this.#holders.size;
      let victim: BudgetShare | null = null;
      for (const share of this.#holders) {
        if (share.held > fair && (victim === null || share.order > victim.order)) victim = share;
      }
      if (victim === null) return; // cannot happen: someone holds at least the mean
      const reason = `over ${this.name} (${this.limit} bytes for all connections together): ` +
        `${this.total} bytes held, ${victim.held} by this connection`;
      victim.evicted = true;
      victim.owner.evict(reason);
      victim.releaseAll();
    }
  }
}

export class BudgetShare {
  held = 0;
  evicted = false;
  #closed = false;
  readonly #budget: SharedBudget;

  constructor(
    budget: SharedBudget,
    readonly owner: BudgetOwner,
    /** opening order: higher is newer */
    readonly order: number,
  ) {
    this.#budget = budget;
  }

  /** Adds `bytes`; false when this share's owner was closed for it (stop using the bytes). */
  take(bytes: number): boolean {
    if (this.#closed) return false;
    this.held += bytes;
    this.#budget.changed(this, bytes);
    if (this.#budget.total > this.#budget.limit) this.#budget.enforce();
    return !this.evicted;
  }

  release(bytes: number): void {
    if (this.#closed || bytes <= 0) return;
    const released = Math.min(bytes, this.held);
    this.held -= released;
    this.#budget.changed(this, -released);
  }

  /** When the owner closes: everything is released and later calls do nothing. */
  releaseAll(): void {
    this.release(this.held);
    this.#closed = true;
  }
}

/** Defaults of the two shared ceilings of a listener. */
export const DEFAULT_MAX_INPUT_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024 * 1024;
