// Subscription: a set of query types kept as a trie (docs/api.md, "Data model").
// A node's '*' child means "any suffix, including none"; it absorbs every sibling, so a node
// with a '*' child has no other children.
import { assertEventType } from './event-type.ts';
import type { EventType } from './types.ts';

interface Node {
  leaf: boolean;
  children: Map<string, Node>;
}

const newNode = (): Node => ({ leaf: false, children: new Map() });

export class Subscription {
  readonly #root: Node = newNode();

  /** Throws on a query type that is not an array of strings or has a `'*'` that is not last. */
  constructor(queryTypes: Iterable<EventType>) {
    const types = [...queryTypes];
    for (const type of types) validateQueryType(type);
    for (const type of types) insert(this.#root, type);
  }

  matches(eventType: EventType): boolean {
    return matchesFrom(this.#root, eventType, 0);
  }

  /** The sanitised query types (redundant ones absorbed); order unspecified. */
  getQueryTypes(): EventType[] {
    const out: EventType[] = [];
    collect(this.#root, [], out);
    return out;
  }

  /** Matches every event type matched by this or any of `others`. */
  union(...others: Subscription[]): Subscription {
    return new Subscription([this, ...others].flatMap((s) => s.getQueryTypes()));
  }

  /** Matches exactly the event types matched by this and by every one of `others`. */
  intersection(...others: Subscription[]): Subscription {
    let node: Node | null = this.#root;
    for (const other of others) {
      if (node === null) break;
      node = intersect(node, other.#root);
    }
    const types: EventType[] = [];
    if (node !== null) collect(node, [], types);
    return new Subscription(types);
  }

  /** True iff no event type is matched by both subscriptions. */
  isDisjoint(other: Subscription): boolean {
    return disjoint(this.#root, other.#root);
  }
}

function validateQueryType(type: unknown): asserts type is EventType {
  assertEventType(type, 'query event type');
  const star = type.indexOf('*');
  if (star !== -1 && star !== type.length - 1) {
    throw new Error(`invalid query event type ${JSON.stringify(type)}: '*' must be the last segment`);
  }
}

function insert(root: Node, type: EventType): void {
  let node = root;
  for (const segment of type) {
    if (node.children.has('*')) return; // already covered
    if (segment === '*') {
      node.children.clear();
      node.children.set('*', { leaf: true, children: new Map() });
      return;
    }
    let child = node.children.get(segment);
    if (!child) node.children.set(segment, (child = newNode()));
    node = child;
  }
  if (!node.children.has('*')) node.leaf = true;
}

function matchesFrom(node: Node, eventType: EventType, i: number): boolean {
  if (node.children.has('*')) return true;
  if (i === eventType.length) return node.leaf;
  const segment = eventType[i] as string;
  const child = node.children.get(segment);
  if (child && matchesFrom(child, eventType, i + 1)) return true;
  if (segment === '?') return false; // the '?' child was just tried as the literal
  const any = node.children.get('?');
  return any !== undefined && matchesFrom(any, eventType, i + 1);
}

function collect(node: Node, prefix: string[], out: EventType[]): void {
  if (node.children.has('*')) {
    out.push([...prefix, '*']);
    return;
  }
  if (node.leaf) out.push([...prefix]);
  for (const [segment, child] of node.children) {
    prefix.push(segment);
    collect(child, prefix, out);
    prefix.pop();
  }
}

/** Whether the node matches at least one (possibly empty) remaining suffix. */
function matchesSomething(node: Node): boolean {
  return node.leaf || node.children.size > 0;
}

function disjoint(a: Node, b: Node): boolean {
  if (a.leaf && b.leaf) return false; // the empty suffix
  if (a.children.has('*')) return !matchesSomething(b);
  if (b.children.has('*')) return !matchesSomething(a);
  for (const [ka, ca] of a.children) {
    for (const [kb, cb] of b.children) {
      // Some segment reaches both children: equal keys, or a '?' on either side.
      if ((ka === kb || ka === '?' || kb === '?') && !disjoint(ca, cb)) return false;
    }
  }
  return true;
}

/** A trie matching what both match, or null when that is nothing. Inputs are not modified. */
function intersect(a: Node, b: Node): Node | null {
  if (a.children.has('*')) return matchesSomething(b) ? copy(b) : null;
  if (b.children.has('*')) return matchesSomething(a) ? copy(a) : null;
  const out: Node = { leaf: a.leaf && b.leaf, children: new Map() };
  for (const [ka, ca] of a.children) {
    for (const [kb, cb] of b.children) {
      if (!(ka === kb || ka === '?' || kb === '?')) continue;
      const child = intersect(ca, cb);
      if (child === null) continue;
      // '?' ∩ literal is that literal; several pairs may land on the same key: merge them.
      const key = ka === '?' ? kb : ka;
      const existing = out.children.get(key);
      out.children.set(key, existing ? merge(existing, child) : child);
    }
  }
  return matchesSomething(out) ? out : null;
}

function copy(node: Node): Node {
  const out: Node = { leaf: node.leaf, children: new Map() };
  for (const [k, c] of node.children) out.children.set(k, copy(c));
  return out;
}

/** Union of two tries built by `intersect` (owned, so `into` may be changed in place). */
function merge(into: Node, from: Node): Node {
  if (into.children.has('*')) return into;
  if (from.children.has('*')) return from;
  into.leaf ||= from.leaf;
  for (const [k, c] of from.children) {
    const existing = into.children.get(k);
    into.children.set(k, existing ? merge(existing, c) : c);
  }
  return into;
}
