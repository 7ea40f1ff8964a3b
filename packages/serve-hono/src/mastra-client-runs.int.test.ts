import { describe, expect, it } from "vitest";
import { writerText } from "./test/bank-agents.ts";
import { type ClientChunk, chunkOf, readChunks, refusalOf, textOf } from "./test/client-reading.ts";
import { useClientWorld } from "./test/client-world.ts";

// `MastraClient` (@mastra/client-js) as the caller of Mastra's server with auth and
// `callerIdentityMiddleware()`, in front of durable agents: the listing routes Studio shows them
// with, generate, stream, observe with an offset, recover and abort. The owner reaches its runs,
// another user does not, an anonymous caller gets 401.
describe("MastraClient and Mastra's server with auth: durable agents and their runs", () => {
  const world = useClientWorld();

  it("lists the durable agents as Studio does, with their tools, instructions and model", async () => {
    const agents = await world.owner.listAgents();
    expect(Object.keys(agents).sort()).toEqual(["ask", "bank", "writer"]);
    const details = await world.owner.getAgent("bank").details();
    for (const bank of [agents.bank, details]) {
      expect(bank).toMatchObject({ name: "Bank", instructions: "You move money when asked." });
      expect(bank).toMatchObject({ provider: "scripted", modelId: "scripted" });
      expect(bank?.tools.transfer).toMatchObject({ id: "transfer", description: "Moves money", requireApproval: true });
    }
    // Agents are not anyone's: every signed-in user sees them, no anonymous caller does.
    expect(Object.keys(await world.other.listAgents()).sort()).toEqual(["ask", "bank", "writer"]);
    expect(await refusalOf(world.anonymous.listAgents())).toBe(401);
    expect(await refusalOf(world.anonymous.getAgent("bank").details())).toBe(401);
  });

  it("generate answers with the wrapped agent's generate(), not durable, as the reference has it", async () => {
    const output = await world.owner.getAgent("writer").generate("Write");
    expect(output.text).toBe(writerText);
    expect(output.finishReason).toBe("stop");
    expect(await refusalOf(world.anonymous.getAgent("writer").generate("Write"))).toBe(401);
    // So a generate() run that waits for approval waits in the server's process, where the
    // durable agent's decisions do not reach it: the server finds no durable run waiting.
    const waiting = await world.owner.getAgent("bank").generate("Send 5");
    expect(waiting.finishReason).toBe("suspended");
    const [call] = waiting.toolCalls as unknown as Array<{ runId: string; payload: { toolCallId: string } }>;
    const decision = { runId: call?.runId as string, toolCallId: call?.payload.toolCallId as string };
    expect(await refusalOf(world.owner.getAgent("bank").approveToolCallGenerate(decision))).toBe(403);
  });

  it("stream starts a durable run of the signed-in user; no one else can take its run id", async () => {
    const chunks = await readChunks(await world.owner.getAgent("bank").stream("Send 5"));
    expect(chunks[0]?.type).toBe("start");
    expect(chunkOf(chunks, "tool-call-approval").payload).toMatchObject({ toolName: "transfer", args: { amount: 5 } });
    const runId = chunks[0]?.runId as string;
    // The run is user-a's: the durable agent itself answers its owner only.
    await expect(world.served.durableAgent.observe(runId, { resourceId: "user-b" })).rejects.toMatchObject({
      code: "RUN_FORBIDDEN",
    });
    expect(await refusalOf(world.other.getAgent("bank").stream("Send 5", { runId } as never))).toBe(409);
    expect(await refusalOf(world.anonymous.getAgent("bank").stream("Send 5"))).toBe(401);
  });

  it("observe reconnects from an offset while the run goes on, with no gap and no repeat", async () => {
    const streaming = await world.owner.getAgent("writer").stream("Write");
    const first: ClientChunk[] = [];
    let reconnect: () => void = () => {};
    const midRun = new Promise<void>((resolve) => {
      reconnect = resolve;
    });
    const whole = streaming.processDataStream({
      onChunk: async (chunk) => {
        first.push(chunk as ClientChunk);
        if (first.filter(({ type }) => type === "text-delta").length === 3) {
          reconnect();
        }
      },
    });
    await midRun;
    const runId = first[0]?.runId as string;
    const offset = 4;
    const tail = await readChunks(await world.owner.getAgent("writer").observe({ runId, offset }));
    await whole;
    expect(tail.map(({ index }) => index)).toEqual(tail.map((_, position) => offset + position));
    expect(tail.at(-1)?.type).toBe("finish");
    const replay = await readChunks(await world.owner.getAgent("writer").observe({ runId, offset: 0 }));
    expect(textOf(replay)).toBe(writerText);
    const identity = ({ index, type, data }: ClientChunk) => [index, type, data?.type];
    expect(replay.slice(offset).map(identity)).toEqual(tail.map(identity));
    expect(textOf(first)).toBe(writerText);

    // The route answers 200 before it subscribes; another user's stream then carries nothing.
    expect(await readChunks(await world.other.getAgent("writer").observe({ runId, offset: 0 }))).toEqual([]);
    expect(await refusalOf(world.anonymous.getAgent("writer").observe({ runId, offset: 0 }))).toBe(401);
  });

  it("recover streams the owner's run from its start; another user gets 403", async () => {
    const { runId } = await world.served.startAs("user-a");
    const recovered = await readChunks(await world.owner.getAgent("bank").recover({ runId }));
    expect(recovered[0]?.type).toBe("start");
    expect(chunkOf(recovered, "tool-call-approval").payload).toMatchObject({ toolName: "transfer" });
    expect(await refusalOf(world.other.getAgent("bank").recover({ runId }))).toBe(403);
    expect(await refusalOf(world.anonymous.getAgent("bank").recover({ runId }))).toBe(401);
  });

  it("abort: the client's abortSignal ends the request, which aborts the durable run", async () => {
    const controller = new AbortController();
    const aborting = world.served.client("user-a", { abortSignal: controller.signal });
    const seen: ClientChunk[] = [];
    const response = await aborting.getAgent("writer").stream("Write");
    await response
      .processDataStream({
        onChunk: async (chunk) => {
          seen.push(chunk as ClientChunk);
          if (seen.filter(({ type }) => type === "text-delta").length === 2) {
            controller.abort();
          }
        },
      })
      .catch(() => {});
    const runId = seen[0]?.runId as string;
    // Read back by its owner, the run ends at its abort, short of the whole text; the route's
    // stream closes there.
    const events = await readChunks(await world.owner.getAgent("writer").observe({ runId, offset: 0 }));
    expect(events.map(({ type }) => type).slice(-2)).toEqual(["abort", "finish"]);
    expect(writerText.startsWith(textOf(events))).toBe(true);
    expect(textOf(events).length).toBeLessThan(writerText.length);
  });
});
