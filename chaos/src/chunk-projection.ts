/** The parts of a chunk the model predicts. */
export interface ProjectableChunk {
  type: string;
  payload?: { text?: string; toolCallId?: string };
}

/**
 * What the model predicts of a chunk: the text of a text delta, the call of a tool result or
 * denial, nothing of the others (ids, timings and usage vary from run to run).
 */
export function projectChunk(chunk: ProjectableChunk): string[] {
  switch (chunk.type) {
    case "text-delta":
      return [`text ${chunk.payload?.text ?? ""}`];
    case "tool-result":
    case "tool-output-denied":
      return [`${chunk.type} ${chunk.payload?.toolCallId ?? ""}`];
    default:
      return [];
  }
}
