import { DefaultChatTransport, type UIMessage, type UIMessageChunk } from "ai";
import type { RunPosition } from "../run-position.ts";

/** The request option with which `chat.sendMessage(undefined, …)` continues the run instead of posting. */
export const continueRunOptions: { body: { continueRun: true } } = { body: { continueRun: true } };

/**
 * `useChat`'s HTTP transport, with one addition: a request made with {@link continueRunOptions}
 * reconnects to the run at the page's position (`GET /api/chat/:chatId/stream?runId=&offset=`)
 * and continues the last assistant message in place. `sendMessage()` without a message is the AI
 * SDK's way to continue the last message (it sends approval responses that way), so the chat keeps
 * the parts it already shows and appends what the server sends after `offset`.
 */
export class ResumableChatTransport extends DefaultChatTransport<UIMessage> {
  /** @param position where the page is in its run: read at each request */
  constructor(position: () => RunPosition | undefined) {
    super({
      api: "/api/chat",
      credentials: "same-origin",
      // Every post says where the page is: an approval the run already has continues from there.
      body: () => ({ resumeFrom: position() }),
      // The server continues after `offset`; it never replays what the page has.
      resumeStreamIsReplay: false,
      prepareReconnectToStreamRequest: ({ id }) => {
        const at = position();
        if (at === undefined) {
          throw new Error("there is no run to reconnect to");
        }
        const query = new URLSearchParams({ runId: at.runId, offset: String(at.offset) });
        return { api: `/api/chat/${encodeURIComponent(id)}/stream?${query}` };
      },
    });
  }

  override async sendMessages(
    options: Parameters<DefaultChatTransport<UIMessage>["sendMessages"]>[0],
  ): Promise<ReadableStream<UIMessageChunk>> {
    if ((options.body as { continueRun?: unknown } | undefined)?.continueRun !== true) {
      return super.sendMessages(options);
    }
    const { chatId, abortSignal, headers, metadata } = options;
    const stream = await this.reconnectToStream({ chatId, abortSignal, headers, metadata });
    // A 204 means nothing to continue: an empty answer leaves the message as it is.
    return stream ?? new ReadableStream<UIMessageChunk>({ start: (controller) => controller.close() });
  }
}
