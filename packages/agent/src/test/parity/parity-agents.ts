import { Agent, type AgentConfig } from "@mastra/core/agent";
import type { Processor } from "@mastra/core/processors";
import { InMemoryStore } from "@mastra/core/storage";
import { createTool } from "@mastra/core/tools";
import { type ScriptTurn, scriptedModel } from "@mastra/inngest-testing/model";
import { Memory } from "@mastra/memory";
import { z } from "zod";
import { transfer } from "../bank-agent.ts";

// The agents of the parity harness: the same factory builds the plain agent, the durable agent's
// wrapped agent, and the worker process's copy, so every side runs the same tools and script.
// Test support only.

/** Model calls per agent id, counted in this process. */
export const modelCalls: Map<string, number> = new Map();

const weather = createTool({
  id: "weather",
  description: "The weather in a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, temperature: 21 }),
});

const clock = createTool({
  id: "clock",
  description: "The time",
  inputSchema: z.object({}),
  execute: async () => ({ time: "12:00" }),
});

const ask = createTool({
  id: "ask",
  description: "Asks the user for a color",
  inputSchema: z.object({ question: z.string() }),
  suspendSchema: z.object({ question: z.string() }),
  resumeSchema: z.object({ color: z.string() }),
  execute: async ({ question }, context) => {
    const color = (context?.agent?.resumeData as { color?: string } | undefined)?.color;
    if (color === undefined) {
      await context?.agent?.suspend?.({ question });
      return { color: "" };
    }
    return { color };
  },
});

const broken = createTool({
  id: "broken",
  description: "Always fails",
  inputSchema: z.object({}),
  execute: async () => {
    throw new Error("the tool broke");
  },
});

const slow = createTool({
  id: "slow",
  description: "Takes a while",
  inputSchema: z.object({}),
  execute: async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return { done: true };
  },
});

const research = createTool({
  id: "research",
  description: "Researches a topic in the background",
  inputSchema: z.object({ topic: z.string() }),
  background: { enabled: true },
  execute: async ({ topic }) => {
    // Long enough for the first run to end before the task does, as with real research.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return { topic, finding: `${topic} are fine` };
  },
});

/** How a parity agent is built. */
export interface ParityAgentSpec {
  script: readonly ScriptTurn[];
  tools?: Array<"weather" | "clock" | "transfer" | "ask" | "broken" | "slow" | "research">;
  /** Milliseconds before each stream part of the model. */
  delayMs?: number;
  /** The model fails every call. */
  failingModel?: boolean;
  /** The model emits a `raw` part before each part when the call asks for raw chunks. */
  rawChunks?: boolean;
  /** An output processor asks for a retry until the model was called this many times. */
  retryUntilCall?: number;
  memory?: boolean;
}

const toolsById = { weather, clock, transfer, ask, broken, slow, research };

/** Counts a model call of the agent `id` in this process, and tells `onModelCall`. */
function countCall(id: string, onModelCall: ((id: string) => void) | undefined): void {
  modelCalls.set(id, (modelCalls.get(id) ?? 0) + 1);
  onModelCall?.(id);
}

/**
 * Builds the agent `id` from its spec; a new model, processors and memory each time. `onModelCall`
 * hears every model call, for a process that counts the calls of another.
 */
export function parityAgent(id: string, spec: ParityAgentSpec, onModelCall?: (id: string) => void): Agent {
  const scripted = scriptedModel(spec.script, {
    ...(spec.delayMs === undefined ? {} : { delayMs: spec.delayMs }),
    onCall: () => countCall(id, onModelCall),
  });
  const model = {
    ...scripted,
    doGenerate: scripted.doGenerate.bind(scripted),
    async doStream(options: Parameters<typeof scripted.doStream>[0] & { includeRawChunks?: boolean }) {
      if (spec.failingModel === true) {
        countCall(id, onModelCall);
        throw new Error("the model is down");
      }
      const result = await scripted.doStream(options);
      if (spec.rawChunks !== true || options.includeRawChunks !== true) {
        return result;
      }
      const withRaw = result.stream.pipeThrough(
        new TransformStream({
          transform(part, controller) {
            controller.enqueue({ type: "raw", rawValue: { provider: part.type } });
            controller.enqueue(part);
          },
        }),
      );
      return { ...result, stream: withRaw };
    },
  };
  const tools = Object.fromEntries((spec.tools ?? []).map((name) => [name, toolsById[name]]));
  const config: AgentConfig = {
    id,
    name: id,
    instructions: "Answer briefly.",
    model: model as never,
    tools,
    ...(spec.retryUntilCall === undefined ? {} : { outputProcessors: [retryProcessor(spec.retryUntilCall)] }),
    ...(spec.memory === true ? { memory: new Memory({ storage: new InMemoryStore() as never }) } : {}),
  };
  return new Agent(config);
}

/** An output processor that asks for a retry of the step until the model was called `calls` times. */
function retryProcessor(calls: number) {
  const processor = {
    id: "retry-until",
    processOutputStep: async ({ abort, messages, retryCount }) => {
      if (retryCount < calls - 1) {
        abort("answer again", { retry: true });
      }
      return messages;
    },
  } satisfies Processor;
  return processor;
}

/** The agent id of a scenario: its name in the id form. */
export function parityAgentId(scenarioName: string): string {
  return `parity-${scenarioName.replace(/[^A-Za-z0-9]+/g, "-")}`;
}
