import { setTimeout as sleep } from "node:timers/promises";
import { type ScriptText, type ScriptTurn, validateScript } from "./scripted-model-script.ts";
import type {
  ScriptedGenerateResult,
  ScriptedModel,
  ScriptedModelCallOptions,
  ScriptedPromptMessage,
  ScriptedResponseMetadata,
  ScriptedStreamPart,
} from "./scripted-model-types.ts";

/** Which method of the model was called. */
export type ScriptedCallMethod = "doGenerate" | "doStream";

/** What `onCall` learns about a call besides its options. */
export interface ScriptedCall {
  /** The turn that answers, counted from 0, as read from the prompt (see {@link scriptedModel}). */
  turn: number;
  method: ScriptedCallMethod;
}

/** Options of {@link scriptedModel}. */
export interface ScriptedModelOptions {
  /**
   * Milliseconds to wait before each stream part; `doGenerate` waits as long as the stream would take.
   * @default 0
   */
  delayMs?: number;
  /** @default "scripted" */
  modelId?: string;
  /** @default "scripted" */
  provider?: string;
  /**
   * Report the request body as HTTP providers do (`request.body`: the prompt and tools as JSON), so
   * that it grows with the conversation; tests use it to check where the body ends up.
   * @default false
   */
  requestBody?: boolean;
  /** Called with the options of every call before it answers, for assertions; awaited. */
  onCall?: (options: ScriptedModelCallOptions, call: ScriptedCall) => void | Promise<void>;
}

const responseTimestamp = 0;
const defaultToolCallId = /^call_(\d+)_\d+$/;

/**
 * A deterministic AI SDK v5 language model (`LanguageModelV2`) that answers with the turns of a
 * script, for tests and benchmarks of Mastra agents. The turn that answers a call is the number of
 * assistant messages already in its prompt: 0 for the first call, 1 after one tool round trip, and
 * so on; past the end of the script the last turn repeats. A tool call id of the default form
 * `call_<turn>_<position>` in the prompt also counts, as turn + 1, because Mastra merges the
 * assistant messages of consecutive steps into one when a run resumes from stored messages.
 * Nothing is counted in memory, so a retried call, or a call made by another process with another
 * instance, gets the same answer.
 *
 * @example
 * const agent = new Agent({
 *   id: "weather",
 *   name: "weather",
 *   instructions: "Answer with the weather.",
 *   model: scriptedModel([toolTurn("weather", { city: "Paris" }), textTurn("Sunny in Paris.")]),
 *   tools: { weather },
 * });
 * const output = await agent.stream("Weather in Paris?", { maxSteps: 5 });
 * await output.text; // "Sunny in Paris."
 */
export function scriptedModel(script: readonly ScriptTurn[], options: ScriptedModelOptions = {}): ScriptedModel {
  validateScript(script);
  const delayMs = options.delayMs ?? 0;
  if (!Number.isFinite(delayMs) || delayMs < 0) {
    throw new Error(`[@mastra/inngest-testing] delayMs must be a non-negative number of milliseconds, got ${delayMs}`);
  }
  const modelId = options.modelId ?? "scripted";
  const turns = [...script];

  const requestOf = (callOptions: ScriptedModelCallOptions): { request?: { body: string } } =>
    options.requestBody === true
      ? { request: { body: JSON.stringify({ model: modelId, prompt: callOptions.prompt, tools: callOptions.tools }) } }
      : {};

  const answer = async (callOptions: ScriptedModelCallOptions, method: ScriptedCallMethod): Promise<Answer> => {
    const turn = turnOf(callOptions.prompt);
    await options.onCall?.(callOptions, { turn, method });
    const scripted = turns[Math.min(turn, turns.length - 1)] as ScriptTurn;
    return buildAnswer(scripted, turn, modelId, callOptions.prompt);
  };

  return {
    specificationVersion: "v2",
    provider: options.provider ?? "scripted",
    modelId,
    supportedUrls: {},
    async doGenerate(callOptions) {
      const { parts, response } = await answer(callOptions, "doGenerate");
      await wait(delayMs * parts.length, callOptions.abortSignal);
      return { ...generateResult(parts, response), ...requestOf(callOptions) };
    },
    async doStream(callOptions) {
      const { parts } = await answer(callOptions, "doStream");
      const signal = callOptions.abortSignal;
      let next = 0;
      const stream = new ReadableStream<ScriptedStreamPart>({
        async pull(controller) {
          try {
            await wait(delayMs, signal);
          } catch (error) {
            controller.error(error);
            return;
          }
          const part = parts[next++];
          if (part) controller.enqueue(part);
          if (next >= parts.length) controller.close();
        },
      });
      return { stream, ...requestOf(callOptions) };
    },
  };
}

interface Answer {
  parts: ScriptedStreamPart[];
  response: ScriptedResponseMetadata;
}

function buildAnswer(
  scripted: ScriptTurn,
  turn: number,
  modelId: string,
  prompt: readonly ScriptedPromptMessage[],
): Answer {
  const response: ScriptedResponseMetadata = {
    id: `response_${turn}`,
    modelId,
    timestamp: new Date(responseTimestamp),
  };
  const parts: ScriptedStreamPart[] = [
    { type: "stream-start", warnings: [] },
    { type: "response-metadata", ...response },
  ];
  let outputText = "";
  const deltas = textDeltas(scripted.text);
  if (deltas.join("") !== "") {
    const id = `text_${turn}`;
    parts.push({ type: "text-start", id });
    for (const delta of deltas) parts.push({ type: "text-delta", id, delta });
    parts.push({ type: "text-end", id });
    outputText += deltas.join("");
  }
  const toolCalls = scripted.toolCalls ?? [];
  toolCalls.forEach((call, position) => {
    const toolCallId = call.toolCallId ?? `call_${turn}_${position}`;
    const input = JSON.stringify(call.args);
    parts.push(
      { type: "tool-input-start", id: toolCallId, toolName: call.toolName },
      { type: "tool-input-delta", id: toolCallId, delta: input },
      { type: "tool-input-end", id: toolCallId },
      { type: "tool-call", toolCallId, toolName: call.toolName, input },
    );
    outputText += ` ${input}`;
  });
  const inputTokens = scripted.usage?.inputTokens ?? countWords(promptText(prompt));
  const outputTokens = scripted.usage?.outputTokens ?? countWords(outputText);
  parts.push({
    type: "finish",
    finishReason: scripted.finishReason ?? (toolCalls.length > 0 ? "tool-calls" : "stop"),
    usage: { inputTokens, outputTokens, totalTokens: scripted.usage?.totalTokens ?? inputTokens + outputTokens },
  });
  return { parts, response };
}

function generateResult(
  parts: readonly ScriptedStreamPart[],
  response: ScriptedResponseMetadata,
): ScriptedGenerateResult {
  const result: ScriptedGenerateResult = {
    content: [],
    finishReason: "stop",
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    warnings: [],
    response,
  };
  let text = "";
  for (const part of parts) {
    if (part.type === "text-delta") text += part.delta;
    if (part.type === "text-end") result.content.push({ type: "text", text });
    if (part.type === "tool-call") result.content.push({ ...part });
    if (part.type === "finish") {
      result.finishReason = part.finishReason;
      result.usage = part.usage;
    }
  }
  return result;
}

// A string is cut before each run of whitespace that follows a word, so the deltas join back to it
// exactly: "Sunny in  Paris." gives "Sunny", " in", "  Paris.".
function textDeltas(text: ScriptText | undefined): readonly string[] {
  if (text === undefined) return [];
  if (typeof text !== "string") return text;
  return text.split(/(?<=\S)(?=\s)/);
}

function turnOf(prompt: readonly ScriptedPromptMessage[]): number {
  let turn = 0;
  for (const message of prompt) {
    if (message.role !== "assistant") continue;
    turn += 1;
    for (const part of message.content) {
      const match = part.type === "tool-call" ? defaultToolCallId.exec(String(part.toolCallId)) : null;
      if (match) turn = Math.max(turn, Number(match[1]) + 1);
    }
  }
  return turn;
}

function promptText(prompt: readonly ScriptedPromptMessage[]): string {
  const pieces: string[] = [];
  for (const message of prompt) {
    if (typeof message.content === "string") {
      pieces.push(message.content);
      continue;
    }
    for (const part of message.content) {
      if (typeof part.text === "string") pieces.push(part.text);
      if (part.input !== undefined) pieces.push(JSON.stringify(part.input));
      if (part.output !== undefined) pieces.push(JSON.stringify(part.output));
    }
  }
  return pieces.join(" ");
}

function countWords(text: string): number {
  return text.split(/\s+/).filter((word) => word !== "").length;
}

async function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  if (ms <= 0) return;
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    // Rethrow the caller's reason rather than the timer's generic AbortError, as fetch does.
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}
