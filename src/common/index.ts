// The data model: types and pure functions every other layer builds on.
export * from './types.ts';
export * from './event-type.ts';
export * from './event-id.ts';
export * from './timestamp.ts';
export * from './subscription.ts';
export * from './query-data.ts';
export * from './payload.ts';
export * from './json-payload.ts';
