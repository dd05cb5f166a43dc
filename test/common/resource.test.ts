import { describe, expect, it } from 'vitest';
import { Lifecycle, ResourceBase, type Resource } from '../../src/common/resource.ts';

describe('Lifecycle', () => {
  it('runs the teardown once, however often close and fail are called', async () => {
    let runs = 0;
    const life = new Lifecycle(() => {
      runs++;
    });
    expect(life.isOpen).toBe(true);
    const a = life.close();
    const b = life.fail(new Error('late'));
    expect(life.isOpen).toBe(false);
    await Promise.all([a, b, life.closed]);
    expect(runs).toBe(1);
    expect(life.failure).toBeUndefined();
  });

  it('keeps the first failure, and records what the teardown throws', async () => {
    const failing = new Lifecycle();
    await failing.fail(new Error('first'));
    await failing.fail(new Error('second'));
    expect(failing.failure?.message).toBe('first');

    const broken = new Lifecycle(() => {
      throw new Error('teardown broke');
    });
    await broken.close(); // resolves: closed never rejects
    expect(broken.failure?.message).toBe('teardown broke');
  });

  it('gives the teardown the reason and sees itself closing during it', async () => {
    let seen: { reason: string | undefined; open: boolean } | null = null;
    const life: Lifecycle = new Lifecycle((reason) => {
      seen = { reason: reason?.message, open: life.isOpen };
    });
    await life.fail('text reason');
    expect(seen).toEqual({ reason: 'text reason', open: false });
  });

  it('closes adopted children after its teardown, and fails when a propagating child closes on its own', async () => {
    const order: string[] = [];
    const parent = new Lifecycle(() => {
      order.push('parent teardown');
    });
    const quiet = parent.adopt(new Lifecycle(() => void order.push('quiet child')));
    const loud = new Lifecycle(() => void order.push('loud child'));
    parent.adopt(loud, true);
    await loud.fail(new Error('child broke'));
    await parent.closed;
    expect(parent.failure?.message).toBe('child broke');
    expect(quiet.isOpen).toBe(false);
    expect(order).toEqual(['loud child', 'parent teardown', 'quiet child']);
  });

  it('a propagating child closes the parent even when closed on request, a plain one does not; adopting into a closed parent closes the child', async () => {
    const parent = new Lifecycle();
    const child: Resource = parent.adopt(new Lifecycle(), true);
    await child.close();
    await new Promise((r) => setImmediate(r));
    expect(parent.isOpen).toBe(false); // propagate: a closed child closes the parent...
    const other = new Lifecycle();
    const plain = other.adopt(new Lifecycle());
    await plain.close();
    expect(other.isOpen).toBe(true); // ...without propagate it does not
    await other.close();
    const late = other.adopt(new Lifecycle());
    await late.closed;
    expect(late.isOpen).toBe(false);
  });
});

describe('ResourceBase', () => {
  class Part extends ResourceBase {
    readonly torn: (string | undefined)[] = [];
    breaks(reason: string): Promise<void> {
      return this.lifecycle.fail(new Error(reason));
    }
    protected override teardown(failure: Error | undefined): void {
      this.torn.push(failure?.message);
    }
  }

  it('is a Resource through its lifecycle: the subclass tears down once, with why', async () => {
    const clean = new Part();
    expect(clean.isOpen).toBe(true);
    await Promise.all([clean.close(), clean.close()]);
    expect([clean.isOpen, clean.failure, clean.torn]).toEqual([false, undefined, [undefined]]);

    const broken = new Part();
    await broken.breaks('worn out');
    await broken.close();
    await broken.closed;
    expect([broken.failure?.message, broken.torn]).toEqual(['worn out', ['worn out']]);
  });
});
