import type { ScriptedFinishReason, ScriptedUsage } from "./scripted-model-types.ts";

/** Text of a turn: a string is streamed word by word, an array gives the exact deltas. */
export type ScriptText = string | readonly string[];

/** A tool call the model makes in a turn. */
export interface ScriptToolCall {
  /** The name of a tool the agent offers. */
  toolName: string;
  /** The arguments, sent to the tool as JSON. */
  args: Record<string, unknown>;
  /** @default `call_<turn>_<position>`, with the turn and position counted from 0 */
  toolCallId?: string;
}

/** How a turn ends; both fields are optional. */
export interface ScriptTurnEnding {
  /** @default "tool-calls" when the turn has tool calls, otherwise "stop" */
  finishReason?: ScriptedFinishReason;
  /**
   * Token counts reported for the turn, each replacing the counted one.
   * @default inputTokens: words in the prompt; outputTokens: words in the text and the tool-call JSON; totalTokens: their sum
   */
  usage?: Partial<ScriptedUsage>;
}

/** A turn that answers with text, and possibly tool calls after it. */
export interface ScriptTextTurn extends ScriptTurnEnding {
  text: ScriptText;
  toolCalls?: readonly ScriptToolCall[];
}

/** A turn that calls tools, and possibly writes text before the calls. */
export interface ScriptToolTurn extends ScriptTurnEnding {
  toolCalls: readonly ScriptToolCall[];
  text?: ScriptText;
}

/** One answer of a scripted model. */
export type ScriptTurn = ScriptTextTurn | ScriptToolTurn;

/**
 * A turn that answers with text.
 *
 * @example
 * scriptedModel([textTurn("Hello there.")]);
 */
export function textTurn(text: ScriptText): ScriptTextTurn {
  return { text };
}

/**
 * A turn that calls one tool with the given arguments.
 *
 * @example
 * scriptedModel([toolTurn("weather", { city: "Paris" }), textTurn("Sunny.")]);
 */
export function toolTurn(toolName: string, args: Record<string, unknown>): ScriptToolTurn {
  return { toolCalls: [{ toolName, args }] };
}

/** Throws when a script cannot be played: no turns, a turn with nothing to say, a tool call without a name. */
export function validateScript(script: readonly ScriptTurn[]): void {
  if (!Array.isArray(script) || script.length === 0) {
    throw new Error("[@mastra/inngest-testing] a script needs at least one turn");
  }
  script.forEach((turn, index) => {
    const hasText = turn.text !== undefined;
    const toolCalls = turn.toolCalls ?? [];
    if (!hasText && toolCalls.length === 0) {
      throw new Error(`[@mastra/inngest-testing] turn ${index} of the script has neither text nor tool calls`);
    }
    if (hasText && typeof turn.text !== "string" && !Array.isArray(turn.text)) {
      throw new Error(`[@mastra/inngest-testing] the text of turn ${index} must be a string or an array of strings`);
    }
    for (const call of toolCalls) {
      if (typeof call.toolName !== "string" || call.toolName === "") {
        throw new Error(`[@mastra/inngest-testing] a tool call of turn ${index} has no toolName`);
      }
    }
  });
}
