import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { until } from "@mastra/inngest-testing/helpers";
import { describe, expect, it } from "vitest";
import type { InngestAgentStreamResult } from "./inngest-agent-types.ts";
import { executions, toolResultsOf, untilSuspendedOrTimeout } from "./test/approval-world.ts";
import { useApprovalWorld } from "./test/use-approval-world.ts";

describe("human in the loop: refusals, races and expiry", () => {
  const approval = useApprovalWorld("hitl-guards");

  it("rejects a wrong toolCallId, a double resume and a resume of a finished run, and the tool never runs again", async () => {
    const started = await approval.agents.approve.stream("Send 5");
    const [request] = await untilSuspendedOrTimeout(started);
    await expect(
      approval.agents.approve.resume(started.runId, { approved: true }, { toolCallId: "nope" }),
    ).rejects.toSatisfy((error) => MastraInngestError.isInstance(error, ErrorCode.NO_PENDING_RESUME));
    const before = executions.transfer ?? 0;
    const eventsBefore = approval.world.engine.events().length;
    const attempts = await Promise.allSettled([
      approval.agents.approve.resume(started.runId, { approved: true }, { toolCallId: request?.toolCallId }),
      approval.agents.approve.resume(started.runId, { approved: true }, { toolCallId: request?.toolCallId }),
    ]);
    const accepted = attempts.filter((attempt) => attempt.status === "fulfilled");
    expect(accepted).toHaveLength(1);
    // Only the accepted resume sent an event; the rejected ones sent nothing.
    expect(approval.world.engine.events().filter((event) => event.name.endsWith(".resume")).length).toBeGreaterThan(0);
    expect(approval.world.engine.events().length - eventsBefore).toBeLessThanOrEqual(1 + 2);
    const rejected = attempts.find((attempt) => attempt.status === "rejected") as PromiseRejectedResult;
    expect(MastraInngestError.isInstance(rejected.reason, ErrorCode.DUPLICATE_RESUME)).toBe(true);
    await (accepted[0] as PromiseFulfilledResult<InngestAgentStreamResult>).value.output.text;
    await approval.world.engine.waitForRun(approval.engineRun(started.runId)?.id ?? "");
    await expect(approval.agents.approve.resume(started.runId, { approved: true })).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.RUN_NOT_SUSPENDED),
    );
    await expect(
      approval.agents.approve.resume("unknown-run", { approved: true }, { resourceId: "user-1" }),
    ).rejects.toSatisfy((error) => MastraInngestError.isInstance(error, ErrorCode.RUN_NOT_FOUND));
    expect((executions.transfer ?? 0) - before).toBe(1);
  });

  it("a resume sent the instant the run suspends is applied exactly once, many times in a row", async () => {
    const rounds = process.env.CI ? 10 : 50;
    const before = executions.transfer ?? 0;
    for (let round = 0; round < rounds; round++) {
      let resumed: Promise<InngestAgentStreamResult> | undefined;
      const started = await approval.agents.approve.stream("Send 5", {
        onSuspended: () => {
          resumed = approval.agents.approve.resume(started.runId, { approved: true });
        },
      });
      // The starting stream ends at the suspension, as the plain agent's does; the resumed one has the rest.
      expect(await started.output.finishReason).toBe("suspended");
      expect(await (await (resumed as Promise<InngestAgentStreamResult>)).output.text).toBe("Done.");
      const run = await approval.world.engine.waitForRun(approval.engineRun(started.runId)?.id ?? "", {
        timeoutMs: 20_000,
      });
      expect(run.status).toBe("Completed");
    }
    expect((executions.transfer ?? 0) - before).toBe(rounds);
  }, 120_000);

  it("a resume sent on the tool-call-approval chunk itself finds the run waiting for it", async () => {
    const before = executions.transfer ?? 0;
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      const started = await approval.agents.approve.stream("Send 5");
      let resumed: Promise<InngestAgentStreamResult> | undefined;
      for await (const chunk of started.fullStream) {
        if (chunk.type === "tool-call-approval") {
          resumed = approval.agents.approve.resume(started.runId, { approved: true });
        }
      }
      // The first stream ends at the suspension, as the plain agent's does; the resumed one has the rest.
      expect(await started.output.finishReason).toBe("suspended");
      expect(await (await (resumed as Promise<InngestAgentStreamResult>)).output.text).toBe("Done.");
    }
    expect((executions.transfer ?? 0) - before).toBe(rounds);
  });

  it("autoResumeSuspendedTools: a later message on the thread resumes the suspended tool with the model's resumeData", async () => {
    const before = executions.ask ?? 0;
    const memory = { thread: "auto-thread", resource: "auto-user" };
    const first = await approval.agents.autoResume.stream("Ask me", { memory, autoResumeSuspendedTools: true });
    const [request] = await untilSuspendedOrTimeout(first);
    expect(request?.type).toBe("tool-call-suspended");
    const second = await approval.agents.autoResume.stream("blue", { memory, autoResumeSuspendedTools: true });
    expect(await toolResultsOf(second.output.fullStream)).toEqual([{ answer: "blue" }]);
    expect(await second.output.text).toBe("Thanks.");
    expect((executions.ask ?? 0) - before).toBe(2);
  });

  it("a wait that expires ends the run, and a later resume gets RESUME_EXPIRED", async () => {
    const started = await approval.agents.expiring.stream("Send 9");
    await untilSuspendedOrTimeout(started);
    const run = await approval.world.engine.waitForRun(approval.engineRun(started.runId)?.id ?? "", {
      timeoutMs: 20_000,
    });
    expect(run.status).toBe("Failed");
    // After the failure handler too, which must not rewrite what the expired wait recorded.
    const handler = await until(() =>
      approval.world.engine
        .runs()
        .find(
          (candidate) =>
            candidate.functionId.endsWith("-failure") &&
            (candidate.event.data as { event?: { data?: { runId?: string } } }).event?.data?.runId === started.runId,
        ),
    );
    expect((await approval.world.engine.waitForRun(handler.id)).status).toBe("Completed");
    await expect(approval.agents.expiring.resume(started.runId, { approved: true })).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.RESUME_EXPIRED),
    );
  });
});
