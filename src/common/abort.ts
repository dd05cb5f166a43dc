// Waiting on an AbortSignal: resolves (never rejects) once it is aborted, at once if it already is.
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
