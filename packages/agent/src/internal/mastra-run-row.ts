import type { Mastra } from "@mastra/core/mastra";
import type { PendingResume } from "@mastra/inngest-core";
import { DURABLE_LOOP_WORKFLOW_NAME } from "./core-durable/index.ts";

/**
 * Mastra's server finds a durable run that waits for a decision in Mastra's own workflow storage:
 * its approve and decline routes check there that the run belongs to the caller and that the tool
 * call waits. While a run waits, this row says so (owner, agent, waiting calls); it goes when the
 * run goes on. Without storage on the Mastra instance there is nothing to write.
 */
export async function writeWaitingRow(
  mastra: Mastra | undefined,
  run: { agentId: string; runId: string; owner: string | undefined; waiting: readonly PendingResume[] },
): Promise<void> {
  const store = await mastra?.getStorage()?.getStore("workflows");
  if (store === undefined) {
    return;
  }
  const calls = Object.fromEntries(
    run.waiting.map((pending, position) => [
      `durable-tool-call-${position}`,
      {
        status: "suspended",
        suspendPayload: {
          toolCallId: pending.toolCallId,
          toolName: pending.toolName,
          __agentId: run.agentId,
          ...(pending.kind === "approval"
            ? { requireToolApproval: { toolCallId: pending.toolCallId, toolName: pending.toolName } }
            : { toolCallSuspended: pending.suspendPayload }),
        },
      },
    ]),
  );
  await store.persistWorkflowSnapshot({
    workflowName: DURABLE_LOOP_WORKFLOW_NAME,
    runId: run.runId,
    ...(run.owner === undefined ? {} : { resourceId: run.owner }),
    // The part of a workflow snapshot Mastra's server reads; the run itself lives on Inngest.
    snapshot: {
      runId: run.runId,
      status: "suspended",
      value: {},
      activePaths: [],
      suspendedPaths: {},
      waitingPaths: {},
      serializedStepGraph: [],
      timestamp: Date.now(),
      context: {
        input: { agentId: run.agentId, ...(run.owner === undefined ? {} : { state: { resourceId: run.owner } }) },
        ...calls,
      },
      resumeLabels: Object.fromEntries(
        run.waiting.map((pending, position) => [pending.toolCallId, { stepId: `durable-tool-call-${position}` }]),
      ),
    } as never,
  });
}

/** Removes the run's waiting row: it goes on, or ended. */
export async function clearWaitingRow(mastra: Mastra | undefined, runId: string): Promise<void> {
  const store = await mastra?.getStorage()?.getStore("workflows");
  await store?.deleteWorkflowRunById({ workflowName: DURABLE_LOOP_WORKFLOW_NAME, runId });
}
