// One chatter connection (docs/protocol.md, "Chatter"): message ids, conversations, ping/pong,
// close. Service layers (eventer, syncer) see decoded envelopes and send with `send`.
import type { Socket } from 'node:net';
import { SbsReader } from '../sbs/reader.ts';
import { readHatMsg, type HatMsg } from '../sbs/hat-messages.ts';
import { CHATTER_TYPES, type SbsTypes } from '../sbs/modules.ts';
import { PING_MODULE, PingMsg } from '../sbs/ping-messages.ts';
import { DEFAULT_MAX_FRAME_SIZE, encodeFrame, encodeFrameParts, FrameDecoder, type DataWriter } from './framing.ts';
import { formatAddress } from './address.ts';
import { describeError } from '../common/describe-error.ts';
import { ResourceBase } from '../common/resource.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import type { BudgetOwner, BudgetShare, SharedBudget } from './budget.ts';

/** A conversation from our point of view: `owner` is true when we opened it. */
export interface Conversation {
  readonly first: number;
  readonly owner: boolean;
}

export interface ChatterMessage {
  readonly id: number;
  readonly conversation: Conversation;
  /** This message opened its conversation. */
  readonly first: boolean;
  readonly last: boolean;
  readonly token: boolean;
  readonly module: string | null;
  readonly type: string;
  /** Encoded inner data; a view valid only during the handler call. */
  readonly data: Uint8Array;
}

export interface ConnectionOptions {
  /** Seconds between our pings and for the pong to arrive; 0 sends no pings. Default 20. */
  pingTimeout?: number;
  /** Largest accepted frame body in bytes. Default 64 MiB. */
  maxFrameSize?: number;
  /** Bytes waiting in the socket's send buffer past which the connection is dropped. Default 128 MiB. */
  maxSendQueue?: number;
  /** Where close reasons are logged (warning level). Default: nowhere. */
  logger?: Logger;
  /** The SBS types the peer may send: the service's repository. Default: chatter's own (Hat, HatPing). */
  sbsTypes?: SbsTypes;
  /** Shared ceiling on bytes received and not yet handled (partial frames, queued requests). */
  inputBudget?: SharedBudget;
  /** Shared ceiling on bytes written and not yet taken by the peers. */
  outputBudget?: SharedBudget;
}

export interface SendOptions {
  /** Continue this conversation; a new one is opened when absent. */
  conversation?: Conversation;
  last?: boolean;
  token?: boolean;
  /** Expected size of the inner data, to size the buffer once. */
  sizeHint?: number;
  /** Inner data already encoded, sent as is after what `write` writes. */
  tail?: readonly Uint8Array[];
}

export class ConnectionClosedError extends Error {
  constructor(reason: string) {
    super(`connection closed: ${reason}`);
    this.name = 'ConnectionClosedError';
  }
}

/**
 * A Resource: `closed` settles when the socket is closed, whoever closed it; `failure` is undefined
 * after our own `close()`, else a ConnectionClosedError with the reason (the peer left, bad input).
 */
export class ChatterConnection extends ResourceBase implements BudgetOwner {
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** Why the connection closed (null while open, 'closed' for a normal close). */
  closeReason: string | null = null;
  readonly #socketClosed: Promise<void>;

  #lastId = 0;
  readonly #decoder: FrameDecoder;
  readonly #pingTimers = new Map<number, NodeJS.Timeout>();
  #pingLoop: NodeJS.Timeout | null = null;
  #handler: ((msg: ChatterMessage) => void) | null = null;
  #early: ChatterMessage[] = [];
  readonly #closeCallbacks: ((reason: string) => void)[] = [];
  readonly #maxSendQueue: number;
  readonly #logger: Logger;
  readonly #sbsTypes: SbsTypes;
  readonly #socket: Socket;
  readonly #input: BudgetShare | undefined;
  readonly #output: BudgetShare | undefined;
  #drain: Promise<void> | null = null;

  constructor(socket: Socket, protocol: 'tcp' | 'ssl', opts: ConnectionOptions = {}) {
    super();
    this.#socket = socket;
    this.#input = opts.inputBudget?.share(this);
    this.#output = opts.outputBudget?.share(this);
    this.#decoder = new FrameDecoder(opts.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE, this.#input);
    this.#maxSendQueue = opts.maxSendQueue ?? 128 * 1024 * 1024;
    this.#logger = opts.logger ?? silentLogger();
    this.#sbsTypes = opts.sbsTypes ?? CHATTER_TYPES;
    this.localAddress = formatAddress(protocol, socket.localAddress ?? '', socket.localPort ?? 0);
    this.remoteAddress = formatAddress(protocol, socket.remoteAddress ?? '', socket.remotePort ?? 0);
    socket.setNoDelay(true);
    this.#socketClosed = new Promise((resolve) => socket.once('close', () => {
      this.#finish('closed by peer');
      resolve();
    }));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#finish('closed by peer'));
    socket.on('error', (err) => this.abort(`socket error: ${err.message}`));
    const pingTimeout = opts.pingTimeout ?? 20;
    if (pingTimeout > 0) {
      this.#pingLoop = setInterval(() => this.#ping(pingTimeout * 1000), pingTimeout * 1000);
      this.#pingLoop.unref();
    }
  }

  /** Receives every message except pings and pongs, in arrival order. */
  setHandler(handler: (msg: ChatterMessage) => void): void {
    this.#handler = handler;
    const early = this.#early;
    this.#early = [];
    for (const msg of early) this.#deliver(msg);
  }

  onClose(cb: (reason: string) => void): void {
    if (this.closeReason !== null) cb(this.closeReason);
    else this.#closeCallbacks.push(cb);
  }

  /** Bytes handed to `send` that the socket has not yet passed to the OS. */
  get pendingSendBytes(): number {
    return this.#socket.writableLength;
  }

  /** Stops reading from the socket (back-pressure for a busy service layer). */
  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  /** Sends one message as one socket write; returns its conversation. */
  send(module: string, type: string, write?: DataWriter, opts: SendOptions = {}): Conversation {
    if (this.closeReason !== null) throw new ConnectionClosedError(this.closeReason);
    const id = ++this.#lastId;
    const conversation = opts.conversation ?? { first: id, owner: true };
    const header = { id, first: conversation.first, owner: conversation.owner, token: opts.token ?? true, last: opts.last ?? true };
    if (opts.tail === undefined) {
      const frame = encodeFrame(header, module, type, write, opts.sizeHint);
      if (this.#output === undefined) this.#socket.write(frame);
      else if (this.#output.take(frame.length)) this.#socket.write(frame, () => this.#output!.release(frame.length));
      else return conversation; // closed for it: the newest slow reader past the shared ceiling
    } else {
      // One frame in several writes: nothing else is written in between (all synchronous).
      const parts = encodeFrameParts(header, module, type, write, opts.sizeHint ?? 64, opts.tail);
      let bytes = 0;
      for (const part of parts) bytes += part.length;
      if (this.#output !== undefined && !this.#output.take(bytes)) return conversation;
      const output = this.#output;
      this.#socket.cork();
      parts.forEach((part, i) => this.#socket.write(part, output !== undefined && i === parts.length - 1 ? () => output.release(bytes) : undefined));
      this.#socket.uncork();
    }
    if (this.#socket.writableLength > this.#maxSendQueue) {
      this.abort(`send queue of ${this.#socket.writableLength} bytes exceeds the limit of ${this.#maxSendQueue} (peer not reading)`);
    }
    return conversation;
  }

  /**
   * Counts bytes a service layer holds for this connection (a decoded request waiting its turn)
   * against the shared input ceiling; false when the connection was closed for it.
   */
  holdInput(bytes: number): boolean {
    return this.#input === undefined || this.#input.take(bytes);
  }

  releaseInput(bytes: number): void {
    this.#input?.release(bytes);
  }

  /** BudgetOwner: closed for a shared ceiling. */
  evict(reason: string): void {
    this.abort(reason);
  }

  /**
   * Resolves once the socket's send buffer is back under its high-water mark (at once when it
   * is, or when the connection is closed): a sender that awaits it never outruns its peer.
   */
  drained(): Promise<void> {
    if (!this.#socket.writableNeedDrain || this.closeReason !== null) return Promise.resolve();
    this.#drain ??= new Promise<void>((resolve) => {
      const done = (): void => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        this.#drain = null;
        resolve();
      };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
    return this.#drain;
  }

  /** Graceful close: pending writes are flushed, then the socket ends. Idempotent. */
  override close(): Promise<void> {
    if (this.closeReason === null) {
      this.#finish('closed');
      this.#socket.end();
      setTimeout(() => this.#socket.destroy(), 1000).unref();
    }
    return this.closed;
  }

  /** Closes at once because of a protocol or I/O problem, logging why. */
  abort(reason: string): void {
    if (this.closeReason !== null) return;
    // one message for every reason, so that a flood of bad clients is one kind of line (rate limits)
    this.#logger.warning('connection closed', { remote: this.remoteAddress, reason });
    this.#finish(reason);
    this.#socket.destroy();
  }

  protected override teardown(): Promise<void> {
    return this.#socketClosed;
  }

  #finish(reason: string): void {
    if (this.closeReason !== null) return;
    this.closeReason = reason;
    void (reason === 'closed' ? this.lifecycle.close() : this.lifecycle.fail(new ConnectionClosedError(reason)));
    this.#input?.releaseAll();
    this.#output?.releaseAll();
    if (this.#pingLoop) clearInterval(this.#pingLoop);
    for (const timer of this.#pingTimers.values()) clearTimeout(timer);
    this.#pingTimers.clear();
    if (!this.#socket.destroyed && reason === 'closed by peer') this.#socket.destroy();
    for (const cb of this.#closeCallbacks.splice(0)) cb(reason);
  }

  #ping(timeoutMs: number): void {
    if (this.closeReason !== null) return;
    const conv = this.send(PING_MODULE, PingMsg.ping, undefined, { last: false });
    const timer = setTimeout(() => this.abort(`no pong within ${timeoutMs} ms`), timeoutMs);
    timer.unref();
    this.#pingTimers.set(conv.first, timer);
  }

  #onData(chunk: Buffer): void {
    try {
      this.#decoder.push(chunk, (body) => {
        this.#onBody(body);
        return this.closeReason === null;
      });
    } catch (err) {
      this.abort(describeError(err));
    }
  }

  #onBody(body: Uint8Array): void {
    let msg: HatMsg;
    try {
      msg = readHatMsg(new SbsReader(body));
    } catch (err) {
      this.abort(`undecodable Hat.Msg: ${describeError(err)}`);
      return;
    }
    if (msg.module === null || !this.#sbsTypes.get(msg.module)?.has(msg.type)) {
      this.abort(`unknown SBS type ${msg.module ?? '<no module>'}.${msg.type}`);
      return;
    }
    const conversation: Conversation = { first: msg.first, owner: !msg.owner };
    if (conversation.owner) {
      const timer = this.#pingTimers.get(msg.first);
      if (timer !== undefined) {
        clearTimeout(timer);
        this.#pingTimers.delete(msg.first);
      }
    }
    if (msg.module === PING_MODULE) {
      if (msg.type === PingMsg.ping) this.send(PING_MODULE, PingMsg.pong, undefined, { conversation, last: true });
      return;
    }
    this.#deliver({
      id: msg.id, conversation, first: msg.owner && msg.first === msg.id, last: msg.last, token: msg.token,
      module: msg.module, type: msg.type, data: msg.data,
    });
  }

  #deliver(msg: ChatterMessage): void {
    if (this.#handler === null) {
      // Only until the service layer attaches; keep a copy since `data` views the read buffer.
      this.#early.push({ ...msg, data: Uint8Array.prototype.slice.call(msg.data) });
      return;
    }
    try {
      this.#handler(msg);
    } catch (err) {
      this.abort(`message handler failed: ${describeError(err)}`);
    }
  }
}
