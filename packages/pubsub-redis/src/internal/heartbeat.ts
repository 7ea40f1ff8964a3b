import type { Redis } from "ioredis";

/** One socket of the connection, as the heartbeat sees it. */
interface WatchedSocket {
  socket: Redis["stream"];
  /** Data events received on it so far. */
  dataEvents: number;
  /** `dataEvents` at the previous tick, while the heartbeat waits for an answer. */
  dataEventsAtLastTick: number;
  /** Whether a PING sent on it is unanswered. */
  pinging: boolean;
}

/**
 * Sends a PING on `connection` every `intervalMs` and destroys its socket when the connection is
 * half-open, so ioredis reconnects (and subscribes again). Half-open means: a whole interval
 * without a byte received while a PING is unanswered, or while a handshake waits for its first
 * reply. Without this a subscriber behind a dead NAT entry or a frozen peer waits minutes for TCP
 * keepalive, receiving nothing. Any byte received counts as an answer, so a connection busy
 * delivering a backlog is never dropped.
 * Intervals are counted in ticks, not compared as timestamps, so timer jitter cannot postpone a
 * verdict by a tick: a dead connection is dropped within two intervals. Returns the stop function.
 */
export function startHeartbeat(connection: Redis, intervalMs: number, onUnresponsive: () => void): () => void {
  let watched: WatchedSocket | undefined;

  const tick = (): void => {
    const status = connection.status;
    // "connect" is a socket open with its handshake in flight; other states have no socket to probe.
    if (status !== "ready" && status !== "connect") {
      watched = undefined;
      return;
    }
    const socket = connection.stream;
    if (watched?.socket !== socket) {
      const current: WatchedSocket = { socket, dataEvents: 0, dataEventsAtLastTick: 0, pinging: false };
      watched = current;
      socket.on("data", () => {
        current.dataEvents++;
      });
      if (status === "connect") {
        // Judged at the next tick, a full interval from now.
        return;
      }
    }
    const current = watched;
    const waiting = status === "connect" ? current.dataEvents === 0 : current.pinging;
    if (waiting && current.dataEvents === current.dataEventsAtLastTick) {
      watched = undefined;
      onUnresponsive();
      socket.destroy();
      return;
    }
    current.dataEventsAtLastTick = current.dataEvents;
    if (status === "ready" && !current.pinging) {
      current.pinging = true;
      const answered = (): void => {
        current.pinging = false;
      };
      connection.ping().then(answered, answered);
    }
  };

  const timer = setInterval(tick, intervalMs);
  // The heartbeat alone must not keep a process alive.
  timer.unref();
  return () => clearInterval(timer);
}
