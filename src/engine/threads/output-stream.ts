// A module thread's outputs on their way to the main thread, as the module produces them: the
// thread encodes them into chunks in a small shared area (OUTPUT_SLOTS slots of OUTPUT_SLOT_BYTES)
// and hands each full chunk over while it goes on producing; the main thread decodes a chunk and
// frees its slot. When every slot waits to be decoded, the module waits (backpressure), so a round
// of any size needs this much shared memory and one chunk's worth of outputs on each side. The
// last chunk of a request is its answer (worker-protocol.ts), and may be left quietly
// (round-barrier.ts) when it is the only one. An event larger than a slot goes alone in a buffer
// of its own.
import type { RegisterEvent } from '../../common/types.ts';
import { RegisterEventChunk, SharedBatch } from './event-batch-codec.ts';

// In Node since 16; TypeScript has it only in its ES2024 library (this project targets ES2022).
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: unknown };
}).waitAsync;

export const OUTPUT_SLOTS = 4;
export const OUTPUT_SLOT_BYTES = 64 * 1024;

const enum SlotState {
  /** The thread may write the slot. */
  Free = 0,
  /** A chunk the main thread has not decoded yet. */
  Handed = 1,
}

/** Where a chunk is: `length` bytes of output slot `slot`, or (`own`) a buffer of its own. */
export interface ChunkPlace {
  slot: number;
  length: number;
  own?: Uint8Array;
}

/** The shared area: one state word per slot, then the slots. Both threads build one over the same buffer. */
export class OutputArea {
  readonly buffer: SharedArrayBuffer;
  readonly #states: Int32Array;

  constructor(buffer = new SharedArrayBuffer(OUTPUT_SLOTS * 4 + OUTPUT_SLOTS * OUTPUT_SLOT_BYTES)) {
    this.buffer = buffer;
    this.#states = new Int32Array(buffer, 0, OUTPUT_SLOTS);
  }

  slot(index: number): Uint8Array {
    return new Uint8Array(this.buffer, OUTPUT_SLOTS * 4 + index * OUTPUT_SLOT_BYTES, OUTPUT_SLOT_BYTES);
  }

  /** Main thread: the chunk's bytes, valid until `release`. */
  bytes(place: ChunkPlace): Uint8Array {
    return place.own ?? this.slot(place.slot).subarray(0, place.length);
  }

  /** Main thread: the chunk is decoded; its slot may be written again. */
  release(place: ChunkPlace): void {
    if (place.own || place.length === 0) return;
    Atomics.store(this.#states, place.slot, SlotState.Free);
    Atomics.notify(this.#states, place.slot);
  }

  /** Thread side. */
  isFree(index: number): boolean {
    return Atomics.load(this.#states, index) === SlotState.Free;
  }

  hand(index: number): void {
    Atomics.store(this.#states, index, SlotState.Handed);
  }

  async waitFree(index: number): Promise<void> {
    while (!this.isFree(index)) {
      const wait = waitAsync(this.#states, index, SlotState.Handed);
      if (wait.async) await wait.value;
    }
  }
}

/** Where a module's outputs go as it produces them (module-runtime.ts). */
export interface OutputSink {
  /** Takes one output; false when the sink is full: await `drain()` before the next push. */
  push(event: RegisterEvent): boolean;
  drain(): Promise<void>;
}

/** Main thread (workers: 0): the outputs simply collected. */
export class CollectingSink implements OutputSink {
  readonly events: RegisterEvent[] = [];

  push(event: RegisterEvent): boolean {
    this.events.push(event);
    return true;
  }

  async drain(): Promise<void> {}
}

/** Thread side: fills the slots in turn and hands each full chunk over with `post`. */
export class OutputStream implements OutputSink {
  readonly #area: OutputArea;
  readonly #post: (chunk: ChunkPlace) => void;
  readonly #chunks: RegisterEventChunk[];
  #slot = 0;
  /** Whether the current slot is free to write (else the next push waits for it). */
  #ready = true;
  #pending: RegisterEvent | null = null;
  /** Chunks handed over during this request, and how often the module waited for a slot. */
  handed = 0;
  waits = 0;

  constructor(area: OutputArea, post: (chunk: ChunkPlace) => void) {
    this.#area = area;
    this.#post = post;
    this.#chunks = Array.from({ length: OUTPUT_SLOTS }, (_, i) => new RegisterEventChunk(area.slot(i)));
  }

  /** A request starts: from the first slot (the engine has decoded every chunk of the last answer). */
  begin(): void {
    this.#slot = 0;
    this.#chunks[0]!.reset();
    this.#ready = this.#area.isFree(0);
    this.handed = 0;
    this.waits = 0;
  }

  push(event: RegisterEvent): boolean {
    if (this.#ready && this.#chunks[this.#slot]!.add(event)) return true;
    if (this.#ready) {
      if (this.#chunks[this.#slot]!.count === 0) {
        this.#postAlone(event);
        return true;
      }
      this.#handOver();
      if (this.#ready) {
        if (!this.#chunks[this.#slot]!.add(event)) this.#postAlone(event);
        return true;
      }
    }
    this.#pending = event;
    this.waits++;
    return false;
  }

  async drain(): Promise<void> {
    await this.#area.waitFree(this.#slot);
    this.#ready = true;
    const event = this.#pending;
    this.#pending = null;
    if (event && !this.#chunks[this.#slot]!.add(event)) this.#postAlone(event);
  }

  /**
   * The request's last chunk (possibly empty), not handed over: it goes with the answer. A chunk
   * that holds events is in a free slot (a push that found none was drained).
   */
  end(): ChunkPlace {
    const bytes = this.#chunks[this.#slot]!.finish();
    if (bytes.length > 0) this.#area.hand(this.#slot);
    return { slot: this.#slot, length: bytes.length };
  }

  /** Hands the current chunk over and moves to the next slot. */
  #handOver(): void {
    const length = this.#chunks[this.#slot]!.finish().length;
    this.#area.hand(this.#slot);
    this.#post({ slot: this.#slot, length });
    this.handed++;
    this.#slot = (this.#slot + 1) % OUTPUT_SLOTS;
    this.#chunks[this.#slot]!.reset();
    this.#ready = this.#area.isFree(this.#slot);
  }

  /** An event larger than a slot: alone, in a buffer of its own (after the chunks before it). */
  #postAlone(event: RegisterEvent): void {
    const alone = new RegisterEventChunk(new SharedBatch(OUTPUT_SLOT_BYTES * 2));
    alone.add(event);
    const own = alone.finish();
    this.#post({ slot: -1, length: own.length, own });
    this.handed++;
  }
}
