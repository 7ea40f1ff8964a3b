import { z } from "zod";
import type { ParityAgentSpec } from "./parity-agents.ts";

/** What the caller does while a run streams, or after its stream ended at a suspension. */
export type ParityInteraction =
  | { kind: "none" }
  /** Aborts (through `abortSignal`) when the first chunk of this type arrives, or `afterMs` later. */
  | { kind: "abort"; onChunk: string; afterMs?: number }
  /** Continues a suspended run: approve or decline its tool call, or resume it with data. */
  | { kind: "approve" }
  | { kind: "decline" }
  /** `resumeAgain`: the data of each further resume, given when the resumed run suspends again. */
  | { kind: "resume"; resumeData: Record<string, unknown>; resumeAgain?: Array<Record<string, unknown>> };

/** One scenario of the parity harness: the same agent, prompt and options on both sides. */
export interface ParityScenario {
  name: string;
  agent: ParityAgentSpec;
  prompt: string;
  /** Stream options both sides take (no callbacks: the harness records those itself). */
  options?: Record<string, unknown>;
  interaction: ParityInteraction;
  /** Options the durable side gets in place of `options` (the reference's memory form, for example). */
  durableOptions?: Record<string, unknown>;
  /** Whether the split topology (a worker process, Redis) runs it too: closures cannot travel. */
  split: boolean;
}

const weatherThenText = [
  { toolCalls: [{ toolName: "weather", args: { city: "Paris" } }] },
  { text: "It is 21 degrees in Paris." },
];

/** The scenarios; each runs on the plain agent and on the durable agent. */
export const parityScenarios: readonly ParityScenario[] = [
  {
    name: "text only",
    agent: { script: [{ text: "Hello there, friend." }] },
    prompt: "Hi",
    interaction: { kind: "none" },
    split: true,
  },
  {
    name: "tools",
    agent: { script: weatherThenText, tools: ["weather"] },
    prompt: "Weather?",
    options: { maxSteps: 5 },
    interaction: { kind: "none" },
    split: true,
  },
  {
    name: "parallel tools",
    agent: {
      script: [
        {
          toolCalls: [
            { toolName: "weather", args: { city: "Paris" } },
            { toolName: "weather", args: { city: "Oslo" } },
            { toolName: "weather", args: { city: "Rome" } },
          ],
        },
        { text: "All three are at 21 degrees." },
      ],
      tools: ["weather"],
    },
    prompt: "Weather in three cities?",
    options: { maxSteps: 5 },
    interaction: { kind: "none" },
    split: true,
  },
  {
    name: "approval approved",
    agent: {
      script: [{ toolCalls: [{ toolName: "transfer", args: { amount: 5 } }] }, { text: "Transferred." }],
      tools: ["transfer"],
    },
    prompt: "Send 5",
    options: { maxSteps: 5 },
    interaction: { kind: "approve" },
    split: true,
  },
  {
    name: "text, then approval",
    agent: {
      script: [
        { text: "Sending it now.", toolCalls: [{ toolName: "transfer", args: { amount: 7 } }] },
        { text: "Transferred." },
      ],
      tools: ["transfer"],
    },
    prompt: "Send 7",
    options: { maxSteps: 5 },
    interaction: { kind: "approve" },
    split: false,
  },
  {
    name: "approval declined",
    agent: {
      script: [{ toolCalls: [{ toolName: "transfer", args: { amount: 5 } }] }, { text: "Not sent." }],
      tools: ["transfer"],
    },
    prompt: "Send 5",
    options: { maxSteps: 5 },
    interaction: { kind: "decline" },
    split: true,
  },
  {
    name: "suspend and resume",
    agent: {
      script: [{ toolCalls: [{ toolName: "ask", args: { question: "Color?" } }] }, { text: "Blue it is." }],
      tools: ["ask"],
    },
    prompt: "Pick a color",
    options: { maxSteps: 5 },
    interaction: { kind: "resume", resumeData: { color: "blue" } },
    split: true,
  },
  {
    name: "abort mid-text",
    agent: { script: [{ text: "one two three four five six seven eight nine ten eleven twelve" }], delayMs: 40 },
    prompt: "Count",
    interaction: { kind: "abort", onChunk: "text-delta" },
    split: false,
  },
  {
    name: "abort mid-tool",
    agent: { script: [{ toolCalls: [{ toolName: "slow", args: {} }] }, { text: "Done." }], tools: ["slow"] },
    prompt: "Take your time",
    options: { maxSteps: 5 },
    interaction: { kind: "abort", onChunk: "tool-call" },
    split: false,
  },
  {
    name: "model error",
    agent: { script: [{ text: "never" }], failingModel: true },
    prompt: "Hi",
    options: { modelSettings: { maxRetries: 0 } },
    interaction: { kind: "none" },
    split: false,
  },
  {
    name: "tool error",
    agent: {
      script: [{ toolCalls: [{ toolName: "broken", args: {} }] }, { text: "The tool failed." }],
      tools: ["broken"],
    },
    prompt: "Try it",
    options: { maxSteps: 5 },
    interaction: { kind: "none" },
    split: true,
  },
  {
    name: "structured output",
    agent: { script: [{ text: '{"answer":"yes"}' }] },
    prompt: "Answer in JSON",
    options: { structuredOutput: { schema: z.object({ answer: z.string() }) } },
    interaction: { kind: "none" },
    split: false,
  },
  {
    name: "raw chunks",
    agent: { script: [{ text: "Raw and cooked." }], rawChunks: true },
    prompt: "Hi",
    options: { includeRawChunks: true },
    interaction: { kind: "none" },
    split: true,
  },
  {
    name: "processor retries",
    agent: { script: [{ text: "Third time lucky." }], retryUntilCall: 3 },
    prompt: "Hi",
    options: { maxProcessorRetries: 2 },
    interaction: { kind: "none" },
    split: true,
  },
  {
    name: "processor retries exhausted",
    agent: { script: [{ text: "Never good enough." }], retryUntilCall: 3 },
    prompt: "Hi",
    options: { maxProcessorRetries: 1 },
    interaction: { kind: "none" },
    split: false,
  },
  {
    name: "memory",
    agent: { script: [{ text: "Nice to meet you, Ada." }], memory: true },
    prompt: "I am Ada",
    options: { memory: { thread: "parity-thread", resource: "parity-user" } },
    durableOptions: { memory: { threadId: "parity-thread", resourceId: "parity-user" } },
    interaction: { kind: "none" },
    split: false,
  },
  {
    name: "stopWhen",
    agent: { script: [...weatherThenText.slice(0, 1), ...weatherThenText], tools: ["weather"] },
    prompt: "Weather?",
    options: { maxSteps: 5, stopWhen: ({ steps }: { steps: unknown[] }) => steps.length >= 1 },
    interaction: { kind: "none" },
    split: false,
  },
  {
    name: "toolChoice",
    agent: { script: weatherThenText, tools: ["weather", "clock"] },
    prompt: "Weather?",
    options: { maxSteps: 5, toolChoice: "auto" },
    interaction: { kind: "none" },
    split: true,
  },
  {
    name: "activeTools",
    agent: { script: weatherThenText, tools: ["weather", "clock"] },
    prompt: "Weather?",
    options: { maxSteps: 5, activeTools: ["weather"] },
    interaction: { kind: "none" },
    split: true,
  },
  {
    name: "untilIdle",
    agent: {
      script: [
        { toolCalls: [{ toolName: "research", args: { topic: "tides" } }] },
        { text: "Started the research." },
        { text: "Tides are fine." },
      ],
      tools: ["research"],
      memory: true,
    },
    prompt: "Research tides",
    options: { untilIdle: true, memory: { thread: "idle-thread", resource: "parity-user" } },
    interaction: { kind: "none" },
    split: false,
  },
];
