import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { describe, expect, it } from "vitest";
import { executions, toolResultsOf, untilSuspendedOrTimeout } from "./test/approval-world.ts";
import { useApprovalWorld } from "./test/use-approval-world.ts";

describe("human in the loop", () => {
  const approval = useApprovalWorld("hitl");

  it("approve: the tool runs once, the resumed stream holds only new chunks and ends with the final text", async () => {
    const before = executions.transfer ?? 0;
    const started = await approval.agents.approve.stream("Send 5");
    const [request] = await untilSuspendedOrTimeout(started);
    expect(request?.type).toBe("tool-call-approval");
    expect(executions.transfer ?? 0).toBe(before);
    const resumed = await approval.agents.approve.resume(started.runId, { approved: true });
    const types: string[] = [];
    for await (const chunk of resumed.fullStream as unknown as AsyncIterable<{ type: string }>) {
      types.push(chunk.type);
    }
    expect(types).not.toContain("tool-call-approval");
    expect(types).toContain("tool-result");
    expect(await resumed.output.text).toBe("Done.");
    expect((executions.transfer ?? 0) - before).toBe(1);
    expect((await approval.world.engine.waitForRun(approval.engineRun(started.runId)?.id ?? "")).status).toBe(
      "Completed",
    );
  });

  it("a resume() whose reply was lost still decides the call, once: the run continues and a retry is a duplicate", async () => {
    const before = executions.transfer ?? 0;
    const started = await approval.agents.lossy.stream("Send 3");
    await untilSuspendedOrTimeout(started);
    await expect(approval.agents.lossy.resume(started.runId, { approved: true })).rejects.toThrow("connection lost");
    expect(approval.lossyCache.lostReplies).toBe(1);
    const retried = await approval.agents.lossy
      .resume(started.runId, { approved: true })
      .catch((error: unknown) => error);
    expect((retried as MastraInngestError).code).toBe(ErrorCode.DUPLICATE_RESUME);
    // The run finds the recorded decision at its next check, without a resume event.
    expect((await approval.world.engine.waitForRun(approval.engineRun(started.runId)?.id ?? "")).status).toBe(
      "Completed",
    );
    expect((executions.transfer ?? 0) - before).toBe(1);
    const replay = await approval.agents.lossy.observe(started.runId);
    expect(await replay.output.text).toBe("Sent.");
  });

  it("deny: the tool never runs and the model continues", async () => {
    const before = executions.transfer ?? 0;
    const started = await approval.agents.approve.stream("Send 5");
    await untilSuspendedOrTimeout(started);
    const resumed = await approval.agents.approve.resume(started.runId, { approved: false, reason: "no" });
    expect(await resumed.output.text).toBe("Done.");
    expect(executions.transfer ?? 0).toBe(before);
  });

  it("in-tool suspend: the tool is called again with the resume data", async () => {
    const before = executions.ask ?? 0;
    const started = await approval.agents.suspend.stream("Ask me");
    const [request] = await untilSuspendedOrTimeout(started);
    expect(request?.type).toBe("tool-call-suspended");
    const resumed = await approval.agents.suspend.resume(started.runId, { answer: "blue" });
    expect(await toolResultsOf(resumed.fullStream)).toEqual([{ answer: "blue" }]);
    expect((executions.ask ?? 0) - before).toBe(2);
  });

  it("several pending approvals are emitted before the run waits and resumed one by one in reverse order", async () => {
    const before = executions.transfer ?? 0;
    const started = await approval.agents.several.stream("Two transfers");
    const requests = await untilSuspendedOrTimeout(started, 2);
    expect(requests).toHaveLength(2);
    await expect(approval.agents.several.resume(started.runId, { approved: true })).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.AMBIGUOUS_RESUME),
    );
    const [first, second] = requests;
    const later = await approval.agents.several.resume(
      started.runId,
      { approved: true },
      { toolCallId: second?.toolCallId },
    );
    const earlier = await approval.agents.several.resume(
      started.runId,
      { approved: true },
      { toolCallId: first?.toolCallId },
    );
    expect(await earlier.output.text).toBe("Both settled.");
    expect(await later.output.text).toBe("Both settled.");
    expect((executions.transfer ?? 0) - before).toBe(2);
  });
});
