// One lifecycle for every long-lived thing (server, backend, engine, module host, connection,
// listener, syncer peer), in the spirit of Hat's aio.Resource: `close()` is idempotent, `closed`
// settles exactly once and never rejects, and `failure` says why a resource closed on its own.
import { describeError } from './describe-error.ts';

export interface Resource {
  /** Settles (never rejects) once the resource has closed, by `close()` or on its own. */
  readonly closed: Promise<void>;
  /** Why it closed on its own, or what went wrong while closing; undefined after a clean close. */
  readonly failure: Error | undefined;
  /** False from the moment closing starts. */
  readonly isOpen: boolean;
  /** Starts closing (once) and resolves when closed; never rejects. */
  close(): Promise<void>;
}

export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(describeError(value));
}

/**
 * The state behind a Resource: a resource owns one, forwards `closed`/`failure`/`isOpen`/`close()`
 * to it, and gives it the teardown to run once. `fail(reason)` is closing on one's own.
 */
export class Lifecycle implements Resource {
  readonly closed: Promise<void>;
  #failure: Error | undefined = undefined;
  #closing: Promise<void> | null = null;
  #resolveClosed!: () => void;
  readonly #children = new Set<Resource>();
  readonly #teardown: (failure: Error | undefined) => Promise<void> | void;

  /** `teardown` runs once, on the first close or fail; what it throws becomes the failure. */
  constructor(teardown: (failure: Error | undefined) => Promise<void> | void = () => {}) {
    this.#teardown = teardown;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  get isOpen(): boolean {
    return this.#closing === null;
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  close(): Promise<void> {
    return this.#begin(undefined);
  }

  /** Closes because of `reason`; the first reason wins, a later call only waits. */
  fail(reason: unknown): Promise<void> {
    return this.#begin(asError(reason));
  }

  /**
   * Ties a child's lifetime to this one: the child closes when this closes (after the teardown,
   * which may close children in an order of its own). With `propagate`, a child that closes on its
   * own while this is open closes this too, with the child's failure (or `propagate(child)`).
   */
  adopt<T extends Resource>(child: T, propagate?: true | ((child: T) => Error)): T {
    if (!this.isOpen) {
      void child.close();
      return child;
    }
    this.#children.add(child);
    void child.closed.then(() => {
      this.#children.delete(child);
      if (propagate === undefined || !this.isOpen) return;
      void this.fail(typeof propagate === 'function' ? propagate(child) : child.failure ?? new Error('a part closed on its own'));
    });
    return child;
  }

  #begin(reason: Error | undefined): Promise<void> {
    if (this.#closing === null) {
      this.#failure = reason;
      this.#closing = this.#run(reason);
    }
    return this.closed;
  }

  async #run(reason: Error | undefined): Promise<void> {
    // A microtask later, so a teardown that calls back into this resource sees it closing.
    await undefined;
    try {
      await this.#teardown(reason);
    } catch (error) {
      this.#failure ??= asError(error);
    }
    await Promise.all([...this.#children].map((child) => child.close()));
    this.#resolveClosed();
  }
}

/**
 * The base of a class that is a Resource: `closed`, `failure`, `isOpen` and `close()` come from its
 * Lifecycle. The class overrides `teardown` (run once, on the first close or failure; `failure`
 * undefined means a clean close), closes on its own with `this.lifecycle.fail(reason)` and ties
 * children to itself with `this.lifecycle.adopt(child)`.
 */
export abstract class ResourceBase implements Resource {
  protected readonly lifecycle = new Lifecycle((failure) => this.teardown(failure));

  get closed(): Promise<void> {
    return this.lifecycle.closed;
  }

  get failure(): Error | undefined {
    return this.lifecycle.failure;
  }

  get isOpen(): boolean {
    return this.lifecycle.isOpen;
  }

  close(): Promise<void> {
    return this.lifecycle.close();
  }

  protected teardown(_failure: Error | undefined): Promise<void> | void {}
}
