import type { MessageHandler, RealtimeConnection } from "./realtime-connection.ts";

interface WireFrame {
  kind?: unknown;
  channel?: unknown;
  topic?: unknown;
  data?: unknown;
}

/**
 * Opens a WebSocket to Inngest Realtime's `/v1/realtime/connect?token=` and hands on the `data`
 * frames of `channel` and `topics` (one JSON object per text frame, as the server sends them to
 * both SDKs' clients). Resolves once the socket is open; rejects when it fails or closes first.
 * The URL carries the token, so it is never logged.
 */
export function openWireConnection(
  url: URL,
  channel: string,
  topics: readonly string[],
  onMessage: MessageHandler,
  closeReason: string,
): Promise<RealtimeConnection> {
  const socket = new WebSocket(url);
  let markEnded: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    markEnded = resolve;
  });
  let closedByUs = false;
  return new Promise<RealtimeConnection>((resolve, reject) => {
    let opened = false;
    socket.onopen = () => {
      opened = true;
      resolve({
        ended,
        close: () => {
          closedByUs = true;
          socket.close(1000, closeReason);
        },
      });
    };
    socket.onerror = () => {
      if (!opened) {
        reject(new Error(`the WebSocket to channel ${channel} failed before it opened`));
      }
    };
    socket.onclose = (event) => {
      if (!opened) {
        reject(new Error(`the WebSocket to channel ${channel} closed before it opened (code ${event.code})`));
      }
      markEnded();
    };
    socket.onmessage = (event) => {
      if (closedByUs || typeof event.data !== "string") {
        return;
      }
      let frame: WireFrame;
      try {
        frame = JSON.parse(event.data) as WireFrame;
      } catch {
        return;
      }
      if (
        frame?.kind === "data" &&
        frame.channel === channel &&
        typeof frame.topic === "string" &&
        topics.includes(frame.topic)
      ) {
        onMessage(frame.topic, frame.data);
      }
    };
  });
}
