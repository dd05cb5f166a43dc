// Polling for a condition in tests: the one way to wait for something a test cannot await.

/** Resolves once `cond` holds; throws naming `what` after `ms`. `cond` is tried every `pollMs`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition', pollMs = 10): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
