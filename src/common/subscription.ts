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
    return matchesFrom(this.#root, eventType);
  }

  /** The sanitised query types (redundant ones absorbed); order unspecified. */
  getQueryTypes(): EventType[] {
    const out: EventType[] = [];
    collect(this.#root, out);
    return out;
  }

  /** Matches every event type matched by this or any of `others`. */
  union(...others: Subscription[]): Subscription {
    return new Subscription([this, ...others].flatMap((s) => s.getQueryTypes()));
  }

  /** Matches exactly the event types matched by this and by every one of `others`. */
  intersection(...others: Subscription[]): Subscription {
    // Intersection distributes over the union of query types: pair them up.
    let types = this.getQueryTypes();
    for (const other of others) {
      const theirs = other.getQueryTypes();
      const next: EventType[] = [];
      for (const a of types) {
        for (const b of theirs) {
          const both = intersectQueryTypes(a, b);
          if (both !== null) next.push(both);
        }
      }
      types = next;
    }
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

// The walks below use explicit stacks: a type may have any number of segments, and no input
// may overflow the call stack.

function matchesFrom(root: Node, eventType: EventType): boolean {
  /** Other branches to try (a '?' child beside a literal one), taken when a walk ends without a match. */
  let branches: [Node, number][] | null = null;
  let node: Node | undefined = root;
  let i = 0;
  for (;;) {
    while (node !== undefined) {
      if (node.children.has('*')) return true;
      if (i === eventType.length) {
        if (node.leaf) return true;
        break;
      }
      const segment = eventType[i++] as string;
      const child: Node | undefined = node.children.get(segment);
      const any: Node | undefined = segment === '?' ? undefined : node.children.get('?'); // a literal '?' was just tried
      if (child !== undefined && any !== undefined) (branches ??= []).push([any, i]);
      node = child ?? any;
    }
    const next = branches?.pop();
    if (next === undefined) return false;
    [node, i] = next;
  }
}

function collect(root: Node, out: EventType[]): void {
  const stack: [Node, string[]][] = [[root, []]];
  while (stack.length > 0) {
    const [node, prefix] = stack.pop()!;
    if (node.children.has('*')) {
      out.push([...prefix, '*']);
      continue;
    }
    if (node.leaf) out.push(prefix);
    const children = [...node.children];
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]![1], [...prefix, children[i]![0]]]);
  }
}

/** Whether the node matches at least one (possibly empty) remaining suffix. */
function matchesSomething(node: Node): boolean {
  return node.leaf || node.children.size > 0;
}

function disjoint(a: Node, b: Node): boolean {
  const pairs: [Node, Node][] = [[a, b]];
  while (pairs.length > 0) {
    const [x, y] = pairs.pop()!;
    if (x.leaf && y.leaf) return false; // the empty suffix
    if (x.children.has('*')) {
      if (matchesSomething(y)) return false;
      continue;
    }
    if (y.children.has('*')) {
      if (matchesSomething(x)) return false;
      continue;
    }
    for (const [kx, cx] of x.children) {
      for (const [ky, cy] of y.children) {
        // Some segment reaches both children: equal keys, or a '?' on either side.
        if (kx === ky || kx === '?' || ky === '?') pairs.push([cx, cy]);
      }
    }
  }
  return true;
}

/** The query type matching what both match (null: nothing); '?' ∩ literal is that literal. */
function intersectQueryTypes(a: EventType, b: EventType): EventType | null {
  const aAny = a[a.length - 1] === '*';
  const bAny = b[b.length - 1] === '*';
  const aLen = aAny ? a.length - 1 : a.length;
  const bLen = bAny ? b.length - 1 : b.length;
  const out: string[] = [];
  for (let i = 0; i < Math.min(aLen, bLen); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y || y === '?') out.push(x);
    else if (x === '?') out.push(y);
    else return null;
  }
  // The longer one's extra segments must fall in the shorter one's trailing '*'.
  if (aLen < bLen) {
    if (!aAny) return null;
    out.push(...b.slice(aLen));
  } else if (bLen < aLen) {
    if (!bAny) return null;
    out.push(...a.slice(bLen));
  } else if (aAny && bAny) {
    out.push('*');
  }
  return out;
}
