// Error kinds of the engine, in one place so callers can tell them apart.

/** A module failed: loading, configuration, creation, a hook, `process`, or its thread. */
export class ModuleError extends Error {
  constructor(
    readonly moduleLabel: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${moduleLabel}: ${message}`, options);
    this.name = 'ModuleError';
  }
}

/** The engine is closed: pending and later register calls reject with this. */
export class EngineClosedError extends Error {
  constructor(reason?: Error) {
    super(reason ? `module engine closed: ${reason.message}` : 'module engine closed', { cause: reason });
    this.name = 'EngineClosedError';
  }
}
