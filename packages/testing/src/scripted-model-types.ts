// The shapes of the AI SDK's `LanguageModelV2` contract (`@ai-sdk/provider` 2.x) that a scripted
// model needs, written out so that the package imports nothing from the AI SDK at runtime or for its
// types. scripted-model.test.ts checks them against the real types.

/** Why a model stopped, as the `LanguageModelV2` contract spells it. */
export type ScriptedFinishReason = "stop" | "length" | "content-filter" | "tool-calls" | "error" | "other" | "unknown";

/** Token counts of one call. */
export interface ScriptedUsage {
  /** Tokens read from the prompt. */
  inputTokens: number;
  /** Tokens written in the answer. */
  outputTokens: number;
  /** `inputTokens + outputTokens` unless a turn says otherwise. */
  totalTokens: number;
}

/** One part of a prompt message: text, a file, a tool call or a tool result. */
export interface ScriptedPromptPart {
  /** `"text"`, `"file"`, `"reasoning"`, `"tool-call"` or `"tool-result"`. */
  type: string;
  /** The text of a text or reasoning part. */
  text?: string;
  /** The id of a tool call or a tool result. */
  toolCallId?: string;
  /** The input of a tool call. */
  input?: unknown;
  /** The output of a tool result. */
  output?: unknown;
}

/** One message of a prompt, as the model receives it. */
export type ScriptedPromptMessage =
  | { role: "system"; content: string }
  | { role: "user" | "assistant" | "tool"; content: readonly ScriptedPromptPart[] };

/** A tool the caller offers the model. */
export interface ScriptedToolDefinition {
  /** `"function"` or `"provider-defined"`. */
  type: string;
  /** The name the model calls the tool by. */
  name: string;
  /** What the tool does, for the model. */
  description?: string;
  /** The JSON schema of the tool's input (function tools). */
  inputSchema?: unknown;
}

/**
 * What a scripted model reads from the options of a call. The caller passes the whole
 * `LanguageModelV2CallOptions`; `onCall` receives them as they came.
 */
export interface ScriptedModelCallOptions {
  /** The conversation so far: its assistant messages choose the turn. */
  prompt: readonly ScriptedPromptMessage[];
  /** The tools offered for this call. */
  tools?: readonly ScriptedToolDefinition[];
  /** Aborts the call: a pending delay rejects and the stream errors with the signal's reason. */
  abortSignal?: AbortSignal;
}

/** A text part of a generated answer. */
export interface ScriptedTextContent {
  type: "text";
  text: string;
}

/** A tool call of a generated answer; `input` is the arguments as a JSON string. */
export interface ScriptedToolCallContent {
  type: "tool-call";
  toolCallId: string;
  toolName: string;
  input: string;
}

/** What `doGenerate` returns. */
export interface ScriptedGenerateResult {
  content: Array<ScriptedTextContent | ScriptedToolCallContent>;
  finishReason: ScriptedFinishReason;
  usage: ScriptedUsage;
  warnings: [];
  response: ScriptedResponseMetadata;
  /** The request as a provider reports it, with `requestBody: true`. */
  request?: { body: string };
}

/** The response metadata of a call: the same for every call that answers the same turn. */
export interface ScriptedResponseMetadata {
  /** `response_<turn>`. */
  id: string;
  /** The model's `modelId`. */
  modelId: string;
  /** Always `new Date(0)`, so that runs compare equal. */
  timestamp: Date;
}

/** A part of the stream `doStream` returns, in the `LanguageModelV2StreamPart` shapes. */
export type ScriptedStreamPart =
  | { type: "stream-start"; warnings: [] }
  | ({ type: "response-metadata" } & ScriptedResponseMetadata)
  | { type: "text-start"; id: string }
  | { type: "text-delta"; id: string; delta: string }
  | { type: "text-end"; id: string }
  | { type: "tool-input-start"; id: string; toolName: string }
  | { type: "tool-input-delta"; id: string; delta: string }
  | { type: "tool-input-end"; id: string }
  | ScriptedToolCallContent
  | { type: "finish"; finishReason: ScriptedFinishReason; usage: ScriptedUsage };

/** What `doStream` returns. */
export interface ScriptedStreamResult {
  stream: ReadableStream<ScriptedStreamPart>;
  /** The request as a provider reports it, with `requestBody: true`. */
  request?: { body: string };
}

/** A deterministic language model implementing the AI SDK's `LanguageModelV2` contract. */
export interface ScriptedModel {
  readonly specificationVersion: "v2";
  readonly provider: string;
  readonly modelId: string;
  /** Empty: a scripted model never fetches URLs itself. */
  readonly supportedUrls: Record<string, RegExp[]>;
  /** Answers with the turn chosen from the prompt, all at once. */
  doGenerate(options: ScriptedModelCallOptions): Promise<ScriptedGenerateResult>;
  /** Answers with the turn chosen from the prompt, as a stream. */
  doStream(options: ScriptedModelCallOptions): Promise<ScriptedStreamResult>;
}
