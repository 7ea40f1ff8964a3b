import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { streamTopic } from "@mastra/inngest-core";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent, InngestAgentStreamResult } from "./inngest-agent-types.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

const words = ["One ", "two ", "three ", "four."];

interface IndexedChunk {
  type: string;
  data?: unknown;
  metadata?: { eventIndex?: number };
  payload?: { text?: string };
}

async function chunksOf(result: InngestAgentStreamResult<unknown>): Promise<IndexedChunk[]> {
  const chunks: IndexedChunk[] = [];
  for await (const chunk of result.fullStream as unknown as AsyncIterable<IndexedChunk>) {
    chunks.push(chunk);
  }
  return chunks;
}

describe("indexedChunks: a client that resumes after the last chunk it rendered", () => {
  let world: TestWorld;
  let durable: InngestAgent;

  beforeAll(async () => {
    // Classic mode: an injected crash after llm:0 stops the run there, as a real crash would.
    world = await startTestWorld("classic");
    const inngest = new Inngest({ id: "indexed", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    durable = createInngestAgent({
      agent: new Agent({ id: "counter", name: "Counter", instructions: "-", model: scriptedModel([textTurn(words)]) }),
      inngest,
    });
    new Mastra({ agents: { counter: durable }, logger: false });
    await world.serve(inngest, durable.getInngestFunctions());
  });

  afterAll(async () => {
    await durable?.pubsub.close();
    await world?.close();
  });

  it("gives each chunk the index of its event in the history, so observe() from index + 1 continues after it", async () => {
    const live = await durable.stream("Count", { indexedChunks: true });
    const chunks = await chunksOf(live);
    const history = await durable.pubsub.getHistory(streamTopic(live.runId));
    expect(chunks.map((chunk) => chunk.metadata?.eventIndex)).toEqual(history.map((event) => event.index));

    const third = chunks.findIndex((chunk) => chunk.payload?.text === "three ");
    const offset = (chunks[third]?.metadata?.eventIndex ?? -1) + 1;
    const rest = await chunksOf(await durable.observe(live.runId, { offset, indexedChunks: true }));
    expect(rest.map((chunk) => chunk.type)).toEqual(chunks.slice(third + 1).map((chunk) => chunk.type));
    expect(rest.map((chunk) => chunk.metadata?.eventIndex)).toEqual(
      chunks.slice(third + 1).map((chunk) => chunk.metadata?.eventIndex),
    );
  });

  it("leaves the chunks as they are without it", async () => {
    const chunks = await chunksOf(await durable.stream("Count"));
    expect(chunks.every((chunk) => chunk.metadata?.eventIndex === undefined)).toBe(true);
  });

  it("passes a retried step's notice on as a data-attempt-superseded chunk, live and to a reconnecting client", async () => {
    const fault = world.engine.faults.crashAfterStep({ functionId: "indexed-agent-counter", step: "llm:0" });
    const live = await durable.stream("Count", { indexedChunks: true });
    const chunks = await chunksOf(live);
    expect(fault.triggered).toBe(1);
    const notices = chunks.filter((chunk) => chunk.type === "data-attempt-superseded");
    expect(notices.map((chunk) => chunk.data)).toEqual([{ stepId: "llm:0", attempt: 1, supersededAttempt: 0 }]);
    const noticeIndex = notices[0]?.metadata?.eventIndex ?? -1;
    // What the failed attempt streamed comes before the notice, the retry's whole text after it.
    const textAfter = (from: IndexedChunk[]) =>
      from
        .filter((chunk) => chunk.type === "text-delta" && (chunk.metadata?.eventIndex ?? -1) > noticeIndex)
        .map((chunk) => chunk.payload?.text)
        .join("");
    expect(textAfter(chunks)).toBe(words.join(""));

    // A client that had rendered the first attempt's first word reconnects, and is told too.
    const firstWord = chunks.find((chunk) => chunk.payload?.text === "One ")?.metadata?.eventIndex ?? -1;
    const resumed = await chunksOf(await durable.observe(live.runId, { offset: firstWord + 1, indexedChunks: true }));
    expect(resumed.filter((chunk) => chunk.type === "data-attempt-superseded")).toHaveLength(1);
    expect(textAfter(resumed)).toBe(words.join(""));
  });
});
