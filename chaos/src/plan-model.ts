import type { ScriptedModelCallOptions } from "@mastra/inngest-testing/model";
import { type ScriptedModel, type ScriptTurn, scriptedModel } from "@mastra/inngest-testing/model";
import { planWord, type RunPlan, readPlanMessage } from "./workload.ts";

/** The model's turns for a plan: one per iteration (words, then the calls), then the answer. */
export function planTurns(plan: RunPlan): ScriptTurn[] {
  const words = (turn: number, count: number): string[] =>
    Array.from({ length: count }, (_, position) => planWord(plan.runId, turn, position));
  const turns: ScriptTurn[] = plan.iterations.map((iteration, turn) => ({
    ...(iteration.words === 0 ? {} : { text: words(turn, iteration.words) }),
    toolCalls: iteration.calls.map((call, position) => ({
      toolName: call.tool,
      args: { reference: `${plan.runId}/${turn}/${position}` },
    })),
  }));
  turns.push({ text: words(plan.iterations.length, plan.finalWords) });
  return turns;
}

/** How many plans' models a process keeps; older ones are built again when needed. */
const keptModels = 100;

/**
 * A model that reads the run's plan from the first user message and plays it with
 * `scriptedModel`, which picks the turn from the prompt: so every worker process, and every retry,
 * answers a run the same way without sharing any state.
 */
export function planModel(): ScriptedModel {
  const models = new Map<string, ScriptedModel>();
  const modelFor = (options: ScriptedModelCallOptions): ScriptedModel => {
    const text = firstUserText(options);
    const known = models.get(text);
    if (known !== undefined) {
      return known;
    }
    const plan = readPlanMessage(text);
    if (plan === undefined) {
      throw new Error("[@mastra/inngest-chaos] the first user message holds no plan");
    }
    const model = scriptedModel(planTurns(plan), { delayMs: plan.chunkDelayMs, modelId: "chaos" });
    models.set(text, model);
    if (models.size > keptModels) {
      models.delete(models.keys().next().value as string);
    }
    return model;
  };
  return {
    specificationVersion: "v2",
    provider: "scripted",
    modelId: "chaos",
    supportedUrls: {},
    doGenerate: (options) => modelFor(options).doGenerate(options),
    doStream: (options) => modelFor(options).doStream(options),
  };
}

function firstUserText(options: ScriptedModelCallOptions): string {
  for (const message of options.prompt) {
    if (message.role === "user") {
      return message.content.map((part) => part.text ?? "").join("");
    }
  }
  return "";
}
