import { AGENT_STREAM_TOPIC } from "@mastra/core/agent/durable";
import type { InngestAgent, InngestAgentStreamResult } from "@mastra/inngest";
import { line, waitingFor, write } from "./terminal.ts";

/** The fields of a stream chunk the client reads. */
interface Chunk {
  type: string;
  payload?: {
    text?: string;
    toolCallId?: string;
    toolName?: string;
    args?: unknown;
    result?: unknown;
    error?: unknown;
    message?: string;
  };
}

/** A tool call that waits for a decision. */
export interface ApprovalRequest {
  toolCallId: string;
  toolName: string;
  args: unknown;
}

/** Options of {@link runClient}. */
export interface ClientOptions {
  /** What the user asks. */
  question: string;
  /** Decides on a tool call that needs approval. */
  decide: (request: ApprovalRequest) => Promise<boolean>;
  /**
   * Text chunks to read before dropping the connection.
   * @default 12
   */
  dropAfterTextChunks?: number;
  /**
   * How long the client stays disconnected, in milliseconds.
   * @default 1000
   */
  offlineMs?: number;
  /**
   * The longest wait for the next chunk before giving up, in milliseconds.
   * @default 30000
   */
  idleTimeoutMs?: number;
}

/** What the client saw. */
export interface ClientReport {
  runId: string;
  /** Chunks received on each connection. */
  chunks: { beforeDrop: number; afterReconnect: number; afterResume: number };
  /** The offset given to `observe()`. */
  offset: number;
  /** Events published while the client was away, replayed from the cache when it reconnected. */
  replayed: number;
  /** The approval request and the decision. */
  approval: ApprovalRequest & { approved: boolean };
  /** Every text delta received, joined. */
  text: string;
}

/**
 * Streams an answer, drops the connection mid-stream, reconnects with `observe(runId, { offset })`,
 * decides on the tool call that waits for approval and resumes the run with `resume()`. Checks
 * that the text received equals a full replay of the run, so no chunk was lost or repeated.
 */
export async function runClient(agent: InngestAgent, options: ClientOptions): Promise<ClientReport> {
  const dropAfterTextChunks = options.dropAfterTextChunks ?? 12;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const streams: InngestAgentStreamResult[] = [];
  let text = "";
  try {
    line(`You: ${options.question}`);
    const stopWaiting = waitingFor("waiting for the agent's first words");
    const started = await agent.stream(options.question);
    streams.push(started);
    const { runId } = started;
    let beforeDrop = 0;
    let textChunks = 0;
    let ended: boolean;
    try {
      ended = await read(started, idleTimeoutMs, (chunk) => {
        beforeDrop++;
        if (chunk.type === "text-delta") {
          if (textChunks++ === 0) {
            line(`(first words after ${stopWaiting()} ms)`);
            write("Agent: ");
          }
          text += showText(chunk);
        }
        return textChunks >= dropAfterTextChunks || chunk.type.startsWith("tool-");
      });
    } finally {
      stopWaiting();
    }
    if (ended) {
      throw new Error("the run ended before the client dropped its connection: expected a longer answer");
    }
    // The first stream's cleanup() waits for the end of the run: with a cache that is not shared
    // across processes (the in-memory default), resume() accepts only runs this process still holds.
    line();
    line(`  ✂ connection dropped after ${beforeDrop} chunks; the run goes on in the engine`);
    await new Promise((resolve) => setTimeout(resolve, options.offlineMs ?? 1000));

    // Until the first tool call, every event of the run became exactly one chunk, so the number of
    // chunks received is the index of the first event this client has not seen.
    const offset = beforeDrop;
    const replayed = (await agent.pubsub.getHistory(AGENT_STREAM_TOPIC(runId), offset)).length;
    const observed = await agent.observe(runId, { offset });
    streams.push(observed);
    line(
      `  ↻ reconnected with observe(runId, { offset: ${offset} }): ${replayed} events published meanwhile, replayed from the cache`,
    );
    write("Agent: …");
    let afterReconnect = 0;
    let request: ApprovalRequest | undefined;
    await read(observed, idleTimeoutMs, (chunk) => {
      afterReconnect++;
      if (chunk.type === "text-delta") {
        text += showText(chunk);
      }
      if (chunk.type === "tool-call-approval") {
        request = {
          toolCallId: chunk.payload?.toolCallId ?? "",
          toolName: chunk.payload?.toolName ?? "",
          args: chunk.payload?.args,
        };
        return true;
      }
      return false;
    });
    line();
    if (request === undefined) {
      throw new Error("the run ended without a tool call that needs approval: the model never called refundOrder");
    }

    line(`  ⚠ ${request.toolName}(${JSON.stringify(request.args)}) needs approval`);
    const approved = await options.decide(request);
    const resumed = await agent.resume(runId, { approved }, { toolCallId: request.toolCallId });
    streams.push(resumed);
    line(`  → resume(runId, { approved: ${approved} })`);
    let afterResume = 0;
    let outcome: "executed" | "denied" | undefined;
    let answering = false;
    await read(resumed, idleTimeoutMs, (chunk) => {
      afterResume++;
      if (chunk.type === "tool-result") {
        outcome = "executed";
        line(`  ✓ ${request?.toolName} ran and returned ${JSON.stringify(chunk.payload?.result)}`);
      }
      if (chunk.type === "tool-output-denied") {
        outcome = "denied";
        line(`  ✗ ${request?.toolName} did not run: the call was denied`);
      }
      if (chunk.type === "text-delta") {
        if (!answering) {
          answering = true;
          write("Agent: ");
        }
        text += showText(chunk);
      }
      return false;
    });
    line();
    if (outcome !== (approved ? "executed" : "denied")) {
      throw new Error(
        `the tool call was ${approved ? "approved" : "denied"}, but the stream reported ${outcome ?? "no outcome"}`,
      );
    }

    const replay = await agent.observe(runId);
    streams.push(replay);
    let replayText = "";
    await read(replay, idleTimeoutMs, (chunk) => {
      if (chunk.type === "text-delta") {
        replayText += chunk.payload?.text ?? "";
      }
      return false;
    });
    if (replayText !== text) {
      throw new Error(
        `the text received differs from a full replay of the run:\n  received: ${JSON.stringify(text)}\n  replayed: ${JSON.stringify(replayText)}`,
      );
    }
    return {
      runId,
      chunks: { beforeDrop, afterReconnect, afterResume },
      offset,
      replayed,
      approval: { ...request, approved },
      text,
    };
  } finally {
    // observe()'s cleanup also clears the run's cached events: only once the run is over.
    for (const stream of streams) {
      stream.cleanup();
    }
  }
}

function showText(chunk: Chunk): string {
  const delta = chunk.payload?.text ?? "";
  write(delta);
  return delta;
}

/**
 * Reads chunks until the stream ends (resolves true) or `onChunk` returns true (resolves false and
 * cancels the read, which is how a client drops its connection). Rejects on an error chunk, and
 * when no chunk arrives for `idleTimeoutMs`.
 */
async function read(
  result: InngestAgentStreamResult,
  idleTimeoutMs: number,
  onChunk: (chunk: Chunk) => boolean,
): Promise<boolean> {
  const reader = result.fullStream.getReader();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no chunk of run ${result.runId} arrived for ${idleTimeoutMs} ms`)),
          idleTimeoutMs,
        );
      });
      const next = await Promise.race([reader.read(), idle]).finally(() => clearTimeout(timer));
      if (next.done) {
        return true;
      }
      const chunk = next.value as Chunk;
      if (chunk.type === "error") {
        throw new Error(`the run reported an error: ${errorMessage(chunk)}`);
      }
      if (onChunk(chunk)) {
        await reader.cancel();
        return false;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function errorMessage(chunk: Chunk): string {
  const error = chunk.payload?.error;
  if (error instanceof Error) {
    return error.message;
  }
  return (
    (error as { message?: string } | undefined)?.message ?? chunk.payload?.message ?? JSON.stringify(chunk.payload)
  );
}
