import { isToolUIPart, type UIMessage } from "ai";

/** A decision on a tool call that waits for approval, as `resume()` takes it. */
export interface ToolDecision {
  runId: string;
  toolCallId: string;
  resumeData: { approved: boolean; reason?: string };
}

// @mastra/ai-sdk names each approval request "<runId>::<toolCallId>".
const separator = "::";

/**
 * The decisions in the last message when it is the assistant's and holds approval responses
 * (`addToolApprovalResponse()` on the page): the run id and tool call come from the approval id.
 */
export function decisionsOf(messages: readonly UIMessage[]): ToolDecision[] {
  const last = messages.at(-1);
  if (last?.role !== "assistant") {
    return [];
  }
  return last.parts.flatMap((part): ToolDecision[] => {
    if (!isToolUIPart(part) || part.state !== "approval-responded") {
      return [];
    }
    const { id, approved, reason } = part.approval;
    const at = id.lastIndexOf(separator);
    const runId = id.slice(0, Math.max(at, 0));
    if (at <= 0 || id.slice(at + separator.length) !== part.toolCallId) {
      return [];
    }
    return [
      { runId, toolCallId: part.toolCallId, resumeData: { approved, ...(reason === undefined ? {} : { reason }) } },
    ];
  });
}
