// Lines to stdout at the pace the reader takes them (a query of millions of rows never piles up
// in memory), ending quietly when the reader goes away (`... | head`) or the stream fails.
import type { Writable } from 'node:stream';

export class LineOutput {
  readonly #stream: Writable;
  #gone = false;

  constructor(stream: Writable) {
    this.#stream = stream;
    // EPIPE, or any other write error: nothing more can be written.
    stream.on('error', () => (this.#gone = true));
  }

  /** The reader closed its end: stop producing. */
  get gone(): boolean {
    return this.#gone;
  }

  async line(text: string): Promise<void> {
    if (this.#gone) return;
    if (!this.#stream.write(`${text}\n`)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#stream.off('drain', done);
          this.#stream.off('error', done);
          this.#stream.off('close', done);
          resolve();
        };
        this.#stream.on('drain', done);
        this.#stream.on('error', done);
        this.#stream.on('close', done);
      });
    }
  }
}
