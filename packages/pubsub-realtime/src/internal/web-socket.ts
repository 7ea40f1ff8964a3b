/**
 * Makes sure `globalThis.WebSocket` exists, which the Inngest SDK's subscriber and this package's
 * use. Node 22 has one; a runtime without one gets the `ws` package's class. An existing global is
 * never replaced.
 */
export async function ensureGlobalWebSocket(): Promise<void> {
  if (typeof globalThis.WebSocket !== "undefined") {
    return;
  }
  const { WebSocket } = await import("ws");
  if (typeof globalThis.WebSocket === "undefined") {
    (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
  }
}
