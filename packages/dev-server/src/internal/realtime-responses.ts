import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/** An HTTP answer of the hub, for the server that owns the socket to write. */
export interface HubResponse {
  /** The HTTP status code. */
  status: number;
  /** Response headers, lower-case names. */
  headers?: Record<string, string>;
  /** The response body; absent for an empty body. */
  body?: string;
}

/** A JSON response with `value` as its body. */
export function jsonResponse(status: number, value: unknown): HubResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(value) };
}

/** The 401 every rejected API call gets, the same body as the real server's. */
export function unauthorizedResponse(): HubResponse {
  return jsonResponse(401, { message: "Unauthorized" });
}

/** Answers an upgrade request with a plain HTTP response instead of a WebSocket, then ends the socket. */
export function rejectUpgrade(socket: Duplex, response: HubResponse): void {
  // The client may already be gone; a write error must not become an uncaught exception.
  socket.on("error", () => socket.destroy());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = response.body ?? "";
  const headers: Record<string, string> = {
    ...response.headers,
    connection: "close",
    "content-length": String(Buffer.byteLength(body)),
  };
  const head = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}`];
  for (const [name, value] of Object.entries(headers)) {
    head.push(`${name}: ${value}`);
  }
  socket.once("finish", () => socket.destroy());
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}
