import { isFinalRunStatus } from "@mastra/inngest-core";
import type { InngestFunction } from "inngest";
import { endAbortedRun } from "./abort-run.ts";
import { cancelledRunsFunctionId, loopFunctionId } from "./agent-events.ts";
import { type RunInput, requestAbort } from "./core-durable/index.ts";
import type { LoopContext } from "./loop-context.ts";

/** Inngest's system event for a cancelled run: timeouts, `cancelOn`, the REST API, the dashboard. */
export const functionCancelledEventName = "inngest/function.cancelled";

/**
 * Creates the function that ends an agent's runs Inngest cancelled without `abort()`: a run past
 * `timeouts.start` or `timeouts.finish`, or one cancelled from the dashboard or the REST API.
 * Inngest calls no handler of the cancelled function, so without this its stream would get no end
 * event and its record would stay `running` or `suspended`: the caller would wait forever. It ends
 * the run as `abort()` does (an in-progress step is asked to stop, the stream gets `abort`, the
 * record says `aborted`), once: for a run `abort()` cancelled it repeats what is already stored.
 */
export function createCancelledRunFunction(context: LoopContext): InngestFunction.Any {
  const { agentId, inngest } = context;
  // Inngest names a function by its app id and its own id in the event.
  const loopId = `${inngest.id}-${loopFunctionId(agentId)}`;
  return inngest.createFunction(
    {
      id: cancelledRunsFunctionId(agentId),
      name: `Agent ${agentId}: cancelled runs`,
      retries: 10,
      triggers: [{ event: functionCancelledEventName, if: `event.data.function_id == '${loopId}'` }],
    },
    async ({ event, step }) => {
      // The event carries the cancelled run's trigger event, whose data is the run input.
      const input = (event.data as { event?: { data?: RunInput } }).event?.data;
      if (typeof input?.runId !== "string") {
        return;
      }
      const runId = input.runId;
      await step.run("end-cancelled-run", async () => {
        // A run deleted meanwhile (`deleteRun()` after `abort()`) stays deleted: nothing of it is
        // written again. An input of another claim (refused at its first step) is not this run's.
        const claimant = await context.records.readClaimant(runId);
        if (claimant === undefined || (input.claimId !== undefined && claimant.claimId !== input.claimId)) {
          return;
        }
        // A run that ended (or that abort() already ended) stays as it ended.
        const record = await context.records.read(runId);
        if (record !== undefined && isFinalRunStatus(record.status)) {
          return;
        }
        const pubsub = context.pubsub();
        // Inngest lets a step in progress run to its end: core's abort request stops it sooner.
        await requestAbort(pubsub, runId);
        await endAbortedRun({ agentId, records: context.records, pubsub, mastra: context.mastra() }, runId);
      });
      context.callerRuns.runEnded(runId);
    },
  );
}
