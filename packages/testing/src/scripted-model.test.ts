import type { LanguageModelV2, LanguageModelV2CallOptions, LanguageModelV2StreamPart } from "@ai-sdk/provider";
import { Agent } from "@mastra/core/agent";
import { createTool } from "@mastra/core/tools";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  type ScriptedModelCallOptions,
  type ScriptedStreamPart,
  type ScriptTurn,
  scriptedModel,
  textTurn,
  toolTurn,
} from "./model.ts";

function weatherTool(calls: Array<{ city: string }>) {
  return createTool({
    id: "weather",
    description: "The weather in a city.",
    inputSchema: z.object({ city: z.string() }),
    outputSchema: z.object({ forecast: z.string() }),
    execute: async (input) => {
      calls.push(input);
      return { forecast: `sunny in ${input.city}` };
    },
  });
}

function weatherAgent(model: LanguageModelV2, calls: Array<{ city: string }> = []): Agent {
  return new Agent({
    id: "weather",
    name: "weather",
    instructions: "Answer with the weather.",
    model,
    tools: { weather: weatherTool(calls) },
  });
}

async function collect(stream: ReadableStream<ScriptedStreamPart>): Promise<ScriptedStreamPart[]> {
  const parts: ScriptedStreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

const userPrompt: ScriptedModelCallOptions["prompt"] = [{ role: "user", content: [{ type: "text", text: "hi" }] }];

const toolToolText: ScriptTurn[] = [
  toolTurn("weather", { city: "Paris" }),
  toolTurn("weather", { city: "Rome" }),
  textTurn("Sunny in Paris and Rome."),
];

describe("scriptedModel", () => {
  it("is a LanguageModelV2 of the AI SDK", () => {
    const model = scriptedModel([textTurn("hello")]);
    expectTypeOf(model).toExtend<LanguageModelV2>();
    expectTypeOf<ScriptedStreamPart>().toExtend<LanguageModelV2StreamPart>();
    expectTypeOf<LanguageModelV2CallOptions>().toExtend<ScriptedModelCallOptions>();
    expect(model).toMatchObject({ specificationVersion: "v2", provider: "scripted", modelId: "scripted" });
    expect(model.supportedUrls).toEqual({});
  });

  it("streams a text turn word by word, then finishes with stop", async () => {
    const { stream } = await scriptedModel([textTurn("Hello there,  world.")]).doStream({ prompt: userPrompt });
    expect(await collect(stream)).toEqual([
      { type: "stream-start", warnings: [] },
      { type: "response-metadata", id: "response_0", modelId: "scripted", timestamp: new Date(0) },
      { type: "text-start", id: "text_0" },
      { type: "text-delta", id: "text_0", delta: "Hello" },
      { type: "text-delta", id: "text_0", delta: " there," },
      { type: "text-delta", id: "text_0", delta: "  world." },
      { type: "text-end", id: "text_0" },
      { type: "finish", finishReason: "stop", usage: { inputTokens: 1, outputTokens: 3, totalTokens: 4 } },
    ]);
  });

  it("streams tool calls with their input as JSON and finishes with tool-calls", async () => {
    const model = scriptedModel([
      {
        toolCalls: [
          { toolName: "weather", args: { city: "Paris" } },
          { toolName: "weather", args: {}, toolCallId: "x" },
        ],
      },
    ]);
    const parts = await collect((await model.doStream({ prompt: userPrompt })).stream);
    expect(parts.slice(2)).toEqual([
      { type: "tool-input-start", id: "call_0_0", toolName: "weather" },
      { type: "tool-input-delta", id: "call_0_0", delta: '{"city":"Paris"}' },
      { type: "tool-input-end", id: "call_0_0" },
      { type: "tool-call", toolCallId: "call_0_0", toolName: "weather", input: '{"city":"Paris"}' },
      { type: "tool-input-start", id: "x", toolName: "weather" },
      { type: "tool-input-delta", id: "x", delta: "{}" },
      { type: "tool-input-end", id: "x" },
      { type: "tool-call", toolCallId: "x", toolName: "weather", input: "{}" },
      { type: "finish", finishReason: "tool-calls", usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 } },
    ]);
  });

  it("gives exact deltas, and a turn's finishReason and usage", async () => {
    const model = scriptedModel([{ text: ["He", "llo"], finishReason: "length", usage: { outputTokens: 7 } }]);
    const parts = await collect((await model.doStream({ prompt: userPrompt })).stream);
    expect(parts.filter((part) => part.type === "text-delta").map((part) => part.delta)).toEqual(["He", "llo"]);
    expect(parts.at(-1)).toEqual({
      type: "finish",
      finishReason: "length",
      usage: { inputTokens: 1, outputTokens: 7, totalTokens: 8 },
    });
  });

  it("generates the same content as it streams", async () => {
    const model = scriptedModel([
      { text: "Let me check.", toolCalls: [{ toolName: "weather", args: { city: "Oslo" } }] },
    ]);
    expect(await model.doGenerate({ prompt: userPrompt })).toEqual({
      content: [
        { type: "text", text: "Let me check." },
        { type: "tool-call", toolCallId: "call_0_0", toolName: "weather", input: '{"city":"Oslo"}' },
      ],
      finishReason: "tool-calls",
      usage: { inputTokens: 1, outputTokens: 4, totalTokens: 5 },
      warnings: [],
      response: { id: "response_0", modelId: "scripted", timestamp: new Date(0) },
    });
  });

  it("chooses the turn from the assistant messages in the prompt and repeats the last one", async () => {
    const model = scriptedModel([textTurn("zero"), textTurn("one")]);
    const assistant = { role: "assistant", content: [{ type: "text", text: "earlier" }] } as const;
    const texts: string[] = [];
    for (const prompt of [userPrompt, [...userPrompt, assistant], [...userPrompt, assistant, assistant, assistant]]) {
      const { content } = await model.doGenerate({ prompt });
      texts.push(content.map((part) => (part.type === "text" ? part.text : "")).join(""));
    }
    expect(texts).toEqual(["zero", "one", "one"]);
  });

  it("counts the turns carried by default tool call ids in a merged assistant message", async () => {
    const model = scriptedModel([toolTurn("weather", { city: "Paris" }), toolTurn("weather", {}), textTurn("two")]);
    const merged: ScriptedModelCallOptions["prompt"] = [
      ...userPrompt,
      {
        role: "assistant",
        content: [
          { type: "tool-call", toolCallId: "call_0_0", input: { city: "Paris" } },
          { type: "tool-call", toolCallId: "call_1_0", input: {} },
        ],
      },
      { role: "tool", content: [{ type: "tool-result", toolCallId: "call_1_0", output: "sunny" }] },
    ];
    expect((await model.doGenerate({ prompt: merged })).content).toEqual([{ type: "text", text: "two" }]);
  });

  it("waits delayMs before each part and passes every call to onCall", async () => {
    const calls: Array<{ turn: number; method: string; prompt: unknown }> = [];
    const model = scriptedModel([textTurn("a b")], {
      delayMs: 20,
      modelId: "m",
      provider: "p",
      onCall: (options, call) => {
        calls.push({ ...call, prompt: options.prompt });
      },
    });
    expect([model.provider, model.modelId]).toEqual(["p", "m"]);
    const started = performance.now();
    const parts = await collect((await model.doStream({ prompt: userPrompt })).stream);
    expect(performance.now() - started).toBeGreaterThanOrEqual(20 * parts.length - 5);
    expect(calls).toEqual([{ turn: 0, method: "doStream", prompt: userPrompt }]);
  });

  it("reports the request body only with requestBody, as providers do", async () => {
    const plain = scriptedModel([textTurn("a")]);
    expect((await plain.doStream({ prompt: userPrompt })).request).toBeUndefined();
    const reporting = scriptedModel([textTurn("a")], { requestBody: true });
    const streamed = await reporting.doStream({ prompt: userPrompt });
    expect(JSON.parse(streamed.request?.body ?? "")).toEqual({ model: "scripted", prompt: userPrompt });
    const generated = await reporting.doGenerate({ prompt: userPrompt });
    expect(generated.request?.body).toBe(streamed.request?.body);
  });

  it("errors the stream when the call is aborted", async () => {
    const controller = new AbortController();
    const model = scriptedModel([textTurn("a b c")], { delayMs: 50 });
    const { stream } = await model.doStream({ prompt: userPrompt, abortSignal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 60);
    await expect(collect(stream)).rejects.toThrow("stop");
  });

  it("rejects an empty script, an empty turn and a negative delay", () => {
    expect(() => scriptedModel([])).toThrow("at least one turn");
    expect(() => scriptedModel([{ toolCalls: [] }])).toThrow("turn 0 of the script has neither text nor tool calls");
    expect(() => scriptedModel([textTurn("a")], { delayMs: -1 })).toThrow("delayMs must be a non-negative");
  });
});

describe("scriptedModel in a Mastra Agent", () => {
  it("streams a one-turn text script", async () => {
    const output = await weatherAgent(scriptedModel([textTurn("Hello from the script.")])).stream("hi");
    expect(await output.text).toBe("Hello from the script.");
    expect(await output.finishReason).toBe("stop");
  });

  it("runs the tool twice with the scripted arguments, then ends with the text", async () => {
    const calls: Array<{ city: string }> = [];
    const output = await weatherAgent(scriptedModel(toolToolText), calls).stream("Weather?", { maxSteps: 10 });
    expect(await output.text).toBe("Sunny in Paris and Rome.");
    expect(await output.finishReason).toBe("stop");
    expect(calls).toEqual([{ city: "Paris" }, { city: "Rome" }]);
    const results = (await output.steps).flatMap((step) => step.toolResults.map((result) => result.payload.result));
    expect(results).toEqual([{ forecast: "sunny in Paris" }, { forecast: "sunny in Rome" }]);
  });

  it("works with generate", async () => {
    const calls: Array<{ city: string }> = [];
    const result = await weatherAgent(scriptedModel(toolToolText), calls).generate("Weather?", { maxSteps: 10 });
    expect(result.text).toBe("Sunny in Paris and Rome.");
    expect(result.finishReason).toBe("stop");
    expect(calls).toEqual([{ city: "Paris" }, { city: "Rome" }]);
  });

  it("counts a turn of text and tool calls as one assistant message", async () => {
    const turns: number[] = [];
    const calls: Array<{ city: string }> = [];
    const model = scriptedModel(
      [{ text: "Let me check.", toolCalls: [{ toolName: "weather", args: { city: "Oslo" } }] }, textTurn("Sunny.")],
      { onCall: (_options, call) => void turns.push(call.turn) },
    );
    const output = await weatherAgent(model, calls).stream("Weather?", { maxSteps: 10 });
    expect((await output.steps).map((step) => step.text)).toEqual(["Let me check.", "Sunny."]);
    expect(calls).toEqual([{ city: "Oslo" }]);
    expect(turns).toEqual([0, 1]);
  });

  it("gives the same chunk types on two runs of the same script", async () => {
    const chunkTypes = async (): Promise<string[]> => {
      const output = await weatherAgent(scriptedModel(toolToolText)).stream("Weather?", { maxSteps: 10 });
      const types: string[] = [];
      for await (const chunk of output.fullStream) types.push(chunk.type);
      return types;
    };
    const first = await chunkTypes();
    expect(first).toContain("tool-result");
    expect(first.filter((type) => type === "text-delta")).toHaveLength(5);
    expect(await chunkTypes()).toEqual(first);
  });

  it("answers a later call from another instance with the turn the prompt asks for", async () => {
    const turns: number[] = [];
    const onCall = (_options: ScriptedModelCallOptions, call: { turn: number }) => {
      turns.push(call.turn);
    };
    const first = await weatherAgent(scriptedModel(toolToolText, { onCall })).stream("Weather?", { maxSteps: 1 });
    const messages = (await first.response).messages ?? [];
    expect(await first.finishReason).toBe("tool-calls");

    // A fresh instance, as in another process, continues from the messages alone.
    const calls: Array<{ city: string }> = [];
    const second = await weatherAgent(scriptedModel(toolToolText, { onCall }), calls).stream(
      ["Weather?", ...messages],
      { maxSteps: 10 },
    );
    expect(await second.text).toBe("Sunny in Paris and Rome.");
    expect(calls).toEqual([{ city: "Rome" }]);
    expect(turns).toEqual([0, 1, 2]);
  });
});
