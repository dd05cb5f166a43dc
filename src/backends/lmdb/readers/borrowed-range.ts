// A reader thread's second handle on ORDERED_DATA, for the big range scans (scan.ts): lmdb-js
// hands a custom decoder its shared read buffer instead of a copy of each value (a decoder that
// does not say it needs a stable buffer is expected to copy what it keeps), and a custom key
// reader may do the same with the key. Both are left as views here, so a scan of 200,000 entries
// makes no key or value object of its own, and its thread collects far less garbage: two big
// queries at once competed with each other's collections on two cores. The scan copies an entry
// it keeps (ScanOutput.add) before the iteration moves on.
import type { RootDatabase } from 'lmdb';
import type { BinaryDb } from '../environment.ts';

const borrowedValues = {
  needsStableBuffer: false,
  encode(value: Uint8Array): Uint8Array {
    return value;
  },
  // Plain views: a Buffer's subarray builds a Buffer, which costs more than the view itself.
  decode(buffer: Uint8Array, size: number): Uint8Array {
    return new Uint8Array(buffer.buffer, buffer.byteOffset, size);
  },
};

const borrowedKeys = {
  writeKey(key: Uint8Array, target: Uint8Array, start: number): number {
    target.set(key, start);
    return start + key.length;
  },
  readKey(buffer: Uint8Array, start: number, end: number): Uint8Array {
    return new Uint8Array(buffer.buffer, buffer.byteOffset + start, end - start);
  },
};

/** ORDERED_DATA with borrowed keys and values: for one range iteration at a time, read-only. */
export function openBorrowedRange(root: RootDatabase<Buffer, Buffer>): BinaryDb {
  return root.openDB({ name: 'ORDERED_DATA', encoder: borrowedValues, keyEncoder: borrowedKeys } as never) as unknown as BinaryDb;
}
