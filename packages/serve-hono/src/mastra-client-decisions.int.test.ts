import { describe, expect, it } from "vitest";
import { chunkOf, readChunks, refusalOf, textOf } from "./test/client-reading.ts";
import { useClientWorld } from "./test/client-world.ts";

// `MastraClient` (@mastra/client-js) deciding what durable runs wait for, through Mastra's server
// with auth: the waiting runs it lists, approve and decline of a tool call (streamed, and as one
// answer), and resume-stream of a tool that suspended. The owner decides, another user gets 403,
// an anonymous caller 401, and a refused decision leaves the call waiting for its owner.
describe("MastraClient and Mastra's server with auth: decisions on durable runs", () => {
  const world = useClientWorld();

  /** Starts a bank run as user-a through the client; its run id and waiting tool call. */
  async function startTransfer(): Promise<{ runId: string; toolCallId: string }> {
    const chunks = await readChunks(await world.owner.getAgent("bank").stream("Send 5"));
    return {
      runId: chunks[0]?.runId as string,
      toolCallId: chunkOf(chunks, "tool-call-approval").payload?.toolCallId as string,
    };
  }

  it("suspended-runs lists a waiting run to its owner only", async () => {
    const { runId, toolCallId } = await startTransfer();
    const { runs } = await world.owner.getAgent("bank").listSuspendedRuns();
    expect(runs.find((run) => run.runId === runId)).toMatchObject({
      status: "suspended",
      resourceId: "user-a",
      toolCalls: [{ toolCallId, toolName: "transfer", requiresApproval: true }],
    });
    expect((await world.other.getAgent("bank").listSuspendedRuns()).runs).toEqual([]);
    expect(await refusalOf(world.anonymous.getAgent("bank").listSuspendedRuns())).toBe(401);
  });

  it("approveToolCall: the owner's approval runs the tool and the run answers", async () => {
    const waiting = await startTransfer();
    expect(await refusalOf(world.other.getAgent("bank").approveToolCall(waiting))).toBe(403);
    expect(await refusalOf(world.anonymous.getAgent("bank").approveToolCall(waiting))).toBe(401);
    const chunks = await readChunks(await world.owner.getAgent("bank").approveToolCall(waiting));
    expect(chunkOf(chunks, "tool-result").payload).toMatchObject({ toolName: "transfer", result: { moved: 5 } });
    expect(textOf(chunks)).toBe("Done.");
    expect(chunks.at(-1)?.type).toBe("finish");
  });

  it("declineToolCall: the owner's refusal reaches the model in place of the tool's result", async () => {
    const waiting = await startTransfer();
    expect(await refusalOf(world.other.getAgent("bank").declineToolCall(waiting))).toBe(403);
    expect(await refusalOf(world.anonymous.getAgent("bank").declineToolCall(waiting))).toBe(401);
    const chunks = await readChunks(
      await world.owner.getAgent("bank").declineToolCall({ ...waiting, reason: "not today" }),
    );
    expect(chunkOf(chunks, "tool-output-denied").payload).toMatchObject({ toolName: "transfer" });
    expect(chunks.some(({ type }) => type === "tool-result")).toBe(false);
    expect(chunks.at(-1)?.type).toBe("finish");
  });

  it("approveToolCallGenerate and declineToolCallGenerate answer with the continued run's whole output", async () => {
    const approved = await startTransfer();
    expect(await refusalOf(world.other.getAgent("bank").approveToolCallGenerate(approved))).toBe(403);
    expect((await world.owner.getAgent("bank").approveToolCallGenerate(approved)).text).toBe("Done.");
    const declined = await startTransfer();
    expect(await refusalOf(world.other.getAgent("bank").declineToolCallGenerate(declined))).toBe(403);
    expect((await world.owner.getAgent("bank").declineToolCallGenerate(declined)).finishReason).toBe("stop");
  });

  it("resumeStream: the owner's answer resumes the suspended tool and the run goes on", async () => {
    const started = await readChunks(await world.owner.getAgent("ask").stream("Send it"));
    const runId = started[0]?.runId as string;
    const suspended = chunkOf(started, "tool-call-suspended").payload;
    expect(suspended).toMatchObject({ toolName: "ask", suspendPayload: { question: "Which account?" } });
    const toolCallId = suspended?.toolCallId as string;
    const answer = { answer: "savings" };
    expect(await refusalOf(world.other.getAgent("ask").resumeStream(answer, { runId, toolCallId }))).toBe(403);
    expect(await refusalOf(world.anonymous.getAgent("ask").resumeStream(answer, { runId, toolCallId }))).toBe(401);
    const chunks = await readChunks(await world.owner.getAgent("ask").resumeStream(answer, { runId, toolCallId }));
    expect(chunkOf(chunks, "tool-result").payload).toMatchObject({ toolName: "ask", result: answer });
    expect(textOf(chunks)).toBe("Sent to the account you chose.");
    expect(chunks.at(-1)?.type).toBe("finish");
  });
});
