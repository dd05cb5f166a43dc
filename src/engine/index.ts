export { createEngine } from './engine.ts';
export type { EngineOptions } from './engine.ts';
export type { Engine, EngineConf, Module, ModuleConf, ModuleEngine, ModuleExports, ModuleFactory } from './types.ts';
export { EngineClosedError, ModuleError } from './errors.ts';
