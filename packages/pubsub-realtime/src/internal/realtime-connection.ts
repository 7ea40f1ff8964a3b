/** Called with the Inngest topic and the published data of every message on a connection. */
export type MessageHandler = (realtimeTopic: string, data: unknown) => void;

/** One open WebSocket subscription to a channel. */
export interface RealtimeConnection {
  /** Resolves once the connection has ended, whether `close()` ended it or not. */
  readonly ended: Promise<void>;
  /** Closes the WebSocket; messages that arrive later are not handed on. */
  close(): void;
}
