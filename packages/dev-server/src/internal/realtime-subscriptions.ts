import { WebSocket } from "ws";
import type { RealtimeTopic } from "./realtime-token.ts";

/**
 * A subscriber whose socket has more than this many bytes queued is closed instead of buffered
 * for: Realtime is a lossy feed, and one stalled browser tab must not grow the engine's memory.
 */
export const MAX_BUFFERED_BYTES: number = 8 * 1024 * 1024;

/** Pings a socket may leave unanswered before it is closed, as the real server's keepalive. */
export const MAX_MISSED_PONGS = 3;

/** How long {@link RealtimeSubscriptions.closeAll} waits for closing handshakes before cutting sockets. */
export const CLOSE_GRACE_MS = 2000;

interface Subscriber {
  socket: WebSocket;
  keys: readonly string[];
  missedPongs: number;
  closed: Promise<void>;
}

/**
 * The open WebSocket subscriptions, indexed by (channel, topic). Delivery is synchronous, so
 * frames reach every socket in the order they were published.
 */
export class RealtimeSubscriptions {
  readonly #byKey = new Map<string, Set<Subscriber>>();
  readonly #subscribers = new Set<Subscriber>();
  readonly #pingIntervalMs: number;
  #pingTimer: NodeJS.Timeout | undefined;

  constructor(pingIntervalMs: number) {
    this.#pingIntervalMs = pingIntervalMs;
  }

  /** Subscriptions open right now. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** Registers an upgraded socket for `topics` until it closes. */
  add(socket: WebSocket, topics: readonly RealtimeTopic[]): void {
    const keys = [...new Set(topics.map(({ channel, topic }) => topicKey(channel, topic)))];
    let resolveClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    const subscriber: Subscriber = { socket, keys, missedPongs: 0, closed };
    this.#subscribers.add(subscriber);
    for (const key of keys) {
      let subscribers = this.#byKey.get(key);
      if (!subscribers) {
        subscribers = new Set();
        this.#byKey.set(key, subscribers);
      }
      subscribers.add(subscriber);
    }
    socket.on("pong", () => {
      subscriber.missedPongs = 0;
    });
    // Without a listener, a socket error would be thrown as an uncaught exception.
    socket.on("error", () => socket.terminate());
    socket.on("close", () => {
      this.#remove(subscriber);
      resolveClosed();
    });
    this.#startPinging();
  }

  /**
   * Writes `frames` to every open subscriber of (channel, topic) and returns how many frames were
   * written. A subscriber whose buffer is over {@link MAX_BUFFERED_BYTES} is closed and skipped.
   */
  deliver(channel: string, topic: string, frames: readonly string[]): number {
    const subscribers = this.#byKey.get(topicKey(channel, topic));
    if (!subscribers) {
      return 0;
    }
    let written = 0;
    for (const subscriber of subscribers) {
      const { socket } = subscriber;
      if (socket.readyState !== WebSocket.OPEN) {
        continue;
      }
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.#remove(subscriber);
        socket.terminate();
        continue;
      }
      for (const frame of frames) {
        socket.send(frame);
      }
      written += frames.length;
    }
    return written;
  }

  /**
   * Closes every open socket with `code` now, without waiting for the closing handshakes, and
   * returns how many there were. The sockets stop receiving at once; new ones are still accepted.
   */
  disconnectAll(code: number, reason: string): number {
    const subscribers = [...this.#subscribers];
    for (const subscriber of subscribers) {
      this.#remove(subscriber);
      subscriber.socket.close(code, reason);
    }
    return subscribers.length;
  }

  /**
   * Stops pinging, closes every socket with `code`, and resolves once all of them are closed;
   * sockets still open after {@link CLOSE_GRACE_MS} are cut.
   */
  async closeAll(code: number, reason: string): Promise<void> {
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
    const subscribers = [...this.#subscribers];
    for (const { socket } of subscribers) {
      socket.close(code, reason);
    }
    const allClosed = Promise.all(subscribers.map(({ closed }) => closed));
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      graceTimer = setTimeout(resolve, CLOSE_GRACE_MS);
      graceTimer.unref();
    });
    await Promise.race([allClosed, grace]);
    clearTimeout(graceTimer);
    for (const { socket } of subscribers) {
      socket.terminate();
    }
    await allClosed;
  }

  #startPinging(): void {
    if (this.#pingTimer) {
      return;
    }
    this.#pingTimer = setInterval(() => this.#pingAll(), this.#pingIntervalMs);
    this.#pingTimer.unref();
  }

  #pingAll(): void {
    for (const subscriber of this.#subscribers) {
      const { socket } = subscriber;
      if (socket.readyState !== WebSocket.OPEN) {
        continue;
      }
      if (subscriber.missedPongs >= MAX_MISSED_PONGS) {
        this.#remove(subscriber);
        socket.terminate();
        continue;
      }
      subscriber.missedPongs += 1;
      socket.ping();
    }
  }

  #remove(subscriber: Subscriber): void {
    if (!this.#subscribers.delete(subscriber)) {
      return;
    }
    for (const key of subscriber.keys) {
      const subscribers = this.#byKey.get(key);
      subscribers?.delete(subscriber);
      if (subscribers?.size === 0) {
        this.#byKey.delete(key);
      }
    }
    if (this.#subscribers.size === 0) {
      clearInterval(this.#pingTimer);
      this.#pingTimer = undefined;
    }
  }
}

function topicKey(channel: string, topic: string): string {
  return JSON.stringify([channel, topic]);
}
