import { ErrorCode, type InngestAgent, MastraInngestError } from "@mastra/inngest";
import { createUIMessageStreamResponse, type UIMessage, type UIMessageChunk } from "ai";
import type { Context, Hono } from "hono";
import { decisionsOf, type ToolDecision } from "./decisions.ts";
import type { RunPosition } from "./run-position.ts";
import { concatStreams, runMessageStream } from "./run-stream.ts";
import { userOf } from "./session.ts";

/** What `useChat`'s transport posts: the chat's id and messages, and where the page is in its run. */
interface ChatRequestBody {
  id?: unknown;
  messages?: UIMessage[];
  resumeFrom?: RunPosition;
}

const chatIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** A refusal with its HTTP status, answered as `{ error, code }`. */
class Refusal extends Error {
  readonly status: 400 | 401;
  readonly code: string;
  constructor(status: 400 | 401, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Adds the chat routes. Every run is started for the signed-in user, who becomes its owner (the
 * run's `memory.resource`); every other call passes that user as `resourceId`, so the agent refuses
 * anyone else's run with `RUN_FORBIDDEN` (403), whoever knows its id.
 * - `POST /api/chat`: `useChat`'s request. A new user message starts a run; an assistant message
 *   with approval responses resumes its run with each decision. Answers an AI SDK UI message stream.
 * - `GET /api/chat/:chatId/stream?runId=&offset=`: the run from the event with index `offset`.
 */
export function addChatRoutes(app: Hono, durable: InngestAgent): void {
  app.post("/api/chat", (c) =>
    answer(c, async (user) => {
      const body = (await c.req.json().catch(() => undefined)) as ChatRequestBody | undefined;
      const chatId = body?.id;
      const messages = body?.messages;
      if (typeof chatId !== "string" || !chatIdPattern.test(chatId) || !isMessageList(messages)) {
        throw new Refusal(400, "INVALID_REQUEST_BODY", "send useChat's body: { id, messages }");
      }
      const decisions = decisionsOf(messages);
      if (decisions.length > 0) {
        return decide(durable, user, decisions, body?.resumeFrom);
      }
      const conversation = toConversation(messages);
      if (conversation.at(-1)?.role !== "user") {
        throw new Refusal(400, "INVALID_REQUEST_BODY", "the last message must be the user's");
      }
      const result = await durable.stream(conversation, {
        memory: { resource: user, thread: chatId },
        indexedChunks: true,
      });
      return runMessageStream(result, 0);
    }),
  );
  app.get("/api/chat/:chatId/stream", (c) =>
    answer(c, async (user) => {
      const runId = c.req.query("runId") ?? "";
      const offset = Number(c.req.query("offset") ?? "0");
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new Refusal(400, "INVALID_OFFSET", "offset is the index of an event: an integer from 0");
      }
      const result = await durable.observe(runId, { offset, resourceId: user, indexedChunks: true });
      return runMessageStream(result, offset);
    }),
  );
}

function isMessageList(value: unknown): value is UIMessage[] {
  return (
    Array.isArray(value) &&
    value.every((message) => typeof message === "object" && message !== null && Array.isArray(message.parts))
  );
}

/**
 * Resumes the run with each decision in turn, as one stream: the run waits until every call that
 * needs a decision has one. A decision the run already has (the page sent it again after a reload)
 * continues with the run from where the page is instead.
 */
async function decide(
  durable: InngestAgent,
  user: string,
  decisions: readonly ToolDecision[],
  resumeFrom: RunPosition | undefined,
): Promise<ReadableStream<UIMessageChunk>> {
  const open = async (decision: ToolDecision): Promise<ReadableStream<UIMessageChunk>> => {
    const offset = resumeFrom?.runId === decision.runId ? resumeFrom.offset : 0;
    try {
      const { runId, toolCallId, resumeData } = decision;
      const result = await durable.resume(runId, resumeData, { resourceId: user, toolCallId, indexedChunks: true });
      return runMessageStream(result, offset);
    } catch (error) {
      if (!isDecidedAlready(error)) {
        throw error;
      }
      const result = await durable.observe(decision.runId, { offset, resourceId: user, indexedChunks: true });
      return runMessageStream(result, offset);
    }
  };
  // The first opens before the response, so that a refusal is an HTTP status, not a broken stream.
  let first: ReadableStream<UIMessageChunk> | undefined = await open(decisions[0] as ToolDecision);
  let next = 1;
  return concatStreams(async () => {
    if (first !== undefined) {
      const stream = first;
      first = undefined;
      return stream;
    }
    const decision = decisions[next++];
    return decision === undefined ? undefined : open(decision);
  });
}

function isDecidedAlready(error: unknown): boolean {
  return (
    MastraInngestError.isInstance(error) &&
    [ErrorCode.DUPLICATE_RESUME, ErrorCode.NO_PENDING_RESUME, ErrorCode.RUN_NOT_SUSPENDED].includes(error.code as never)
  );
}

/** The conversation as the agent reads it: the text of each user and assistant message. */
type ConversationMessage = { role: "user"; content: string } | { role: "assistant"; content: string };

function toConversation(messages: readonly UIMessage[]): ConversationMessage[] {
  return messages.flatMap((message): ConversationMessage[] => {
    const content = message.parts
      .map((part) => (part.type === "text" ? part.text : ""))
      .join("")
      .trim();
    if (content === "" || (message.role !== "user" && message.role !== "assistant")) {
      return [];
    }
    return [message.role === "user" ? { role: "user", content } : { role: "assistant", content }];
  });
}

/** Answers with the stream `open` returns for the signed-in user, or with the refusal it throws. */
async function answer(c: Context, open: (user: string) => Promise<ReadableStream<UIMessageChunk>>): Promise<Response> {
  const user = userOf(c);
  if (user === undefined) {
    return c.json({ error: "sign in first", code: "SIGNED_OUT" }, 401);
  }
  try {
    return createUIMessageStreamResponse({ stream: await open(user) });
  } catch (error) {
    if (error instanceof Refusal) {
      return c.json({ error: error.message, code: error.code }, error.status);
    }
    if (MastraInngestError.isInstance(error)) {
      return Response.json({ error: error.message, code: error.code }, { status: error.status });
    }
    throw error;
  }
}
