// What the write path needs per event type (its exact key string and its type-index hash),
// computed once per type and found again by walking the type's segments through a trie: no
// string is built per event. Bounded: past MAX_TYPES distinct types the table starts afresh.
import { createHash } from 'node:crypto';
import { eventTypeKey } from '../../common/event-type.ts';
import type { EventType } from '../../common/types.ts';

export const TYPE_HASH_SIZE = 8;
const MAX_TYPES = 100_000;

export interface TypeInfo {
  /** `eventTypeKey(type)` */
  readonly key: string;
  /** 8 bytes of SHA-1 of the key (type-index.ts) */
  readonly hash: Buffer;
}

class Node {
  children: Map<string, Node> | null = null;
  info: TypeInfo | null = null;
}

let root = new Node();
let size = 0;

export function typeInfo(type: EventType): TypeInfo {
  let node = root;
  for (let i = 0; i < type.length; i++) {
    const segment = type[i]!;
    let next = node.children?.get(segment);
    if (next === undefined) {
      if (size >= MAX_TYPES) {
        root = new Node();
        size = 0;
        return typeInfo(type);
      }
      next = new Node();
      (node.children ??= new Map()).set(segment, next);
    }
    node = next;
  }
  if (node.info === null) {
    const key = eventTypeKey(type);
    node.info = { key, hash: createHash('sha1').update(key).digest().subarray(0, TYPE_HASH_SIZE) };
    size += 1;
  }
  return node.info;
}
