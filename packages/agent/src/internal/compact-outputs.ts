import type { DurableAgenticExecutionOutput, DurableLLMStepOutput } from "@mastra/core/agent/durable";
import { applyMessageListDelta, diffMessageList, type MessageListDelta } from "./message-list-delta.ts";

/** What an LLM or mapping step memoizes: its output with the message list as a delta. */
export type Compacted<Output> = Omit<Output, "messageListState"> & { messageListDelta: MessageListDelta };

/** A mapping step's memo; `toolResults` and `output.toolCalls` are left out when they repeat the inputs. */
export type CompactedMapping = Compacted<DurableAgenticExecutionOutput> & { repeatsInputs?: boolean };

/**
 * The LLM step's output as memoized: the message list becomes its change from `base`, the list the
 * step started from. Every replay knows `base` (the trigger event and earlier memos), so the full
 * list is rebuilt outside the step by {@link expandLLMOutput}.
 */
export function compactLLMOutput(output: DurableLLMStepOutput, base: unknown): Compacted<DurableLLMStepOutput> {
  const { messageListState, ...rest } = output;
  return { ...rest, messageListDelta: diffMessageList(base, messageListState) };
}

/** The LLM step's output with its full message list, from its memo and the list it started from. */
export function expandLLMOutput(memo: Compacted<DurableLLMStepOutput>, base: unknown): DurableLLMStepOutput {
  const { messageListDelta, ...rest } = memo;
  const messageListState = rebuildList(base, messageListDelta);
  return { ...rest, messageListState } as DurableLLMStepOutput;
}

/**
 * The mapping step's output as memoized: the message list as a delta, and without the tool results
 * and tool calls when they equal what the step was given (the tool steps' and LLM step's memos).
 */
export function compactMappingOutput(
  output: DurableAgenticExecutionOutput,
  base: unknown,
  inputs: MappingInputs,
): CompactedMapping {
  const { messageListState, ...rest } = output;
  const compacted: CompactedMapping = { ...rest, messageListDelta: diffMessageList(base, messageListState) };
  if (sameJson(output.toolResults, inputs.toolResults) && sameJson(output.output?.toolCalls, inputs.toolCalls)) {
    const { toolCalls: _toolCalls, ...outputRest } = output.output;
    return { ...compacted, toolResults: [], output: outputRest, repeatsInputs: true } as CompactedMapping;
  }
  return compacted;
}

/** The mapping step's output in full, from its memo, the list it started from and its inputs. */
export function expandMappingOutput(
  memo: CompactedMapping,
  base: unknown,
  inputs: MappingInputs,
): DurableAgenticExecutionOutput {
  const { messageListDelta, repeatsInputs, ...rest } = memo;
  const messageListState = rebuildList(base, messageListDelta);
  if (repeatsInputs === true) {
    return {
      ...rest,
      messageListState,
      toolResults: inputs.toolResults,
      output: { ...rest.output, toolCalls: inputs.toolCalls },
    } as DurableAgenticExecutionOutput;
  }
  return { ...rest, messageListState } as DurableAgenticExecutionOutput;
}

/** What the mapping step receives that its output may repeat. */
export interface MappingInputs {
  toolResults: DurableAgenticExecutionOutput["toolResults"];
  toolCalls: DurableLLMStepOutput["toolCalls"];
}

type MessageListState = DurableLLMStepOutput["messageListState"];

/** The serialized list a delta was made for; its shape is core's, which the delta does not change. */
function rebuildList(base: unknown, delta: MessageListDelta): MessageListState {
  return applyMessageListDelta(base, delta) as unknown as MessageListState;
}

function sameJson(left: unknown, right: unknown): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}
