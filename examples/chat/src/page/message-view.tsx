import { isToolUIPart, type UIMessage } from "ai";
import type { ReactElement } from "react";

/** What the buttons of a tool call that waits for approval do. */
export interface ApprovalHandlers {
  decide: (approvalId: string, approved: boolean) => void;
}

type Part = UIMessage["parts"][number];
type ToolPart = Extract<Part, { toolCallId: string }>;
type Block = { kind: "text"; text: string } | { kind: "tool"; part: ToolPart };

/**
 * The blocks a message shows: its text, with consecutive text parts joined (a reconnected stream
 * continues the text in a new part), and its tool calls where they happened.
 */
function blocksOf(message: UIMessage): Block[] {
  const blocks: Block[] = [];
  for (const part of message.parts) {
    const last = blocks.at(-1);
    if (part.type === "text") {
      if (last?.kind === "text") {
        last.text += part.text;
      } else {
        blocks.push({ kind: "text", text: part.text });
      }
    } else if (isToolUIPart(part)) {
      blocks.push({ kind: "tool", part });
    }
  }
  return blocks;
}

/** One message of the conversation. */
export function MessageView({ message, handlers }: { message: UIMessage; handlers: ApprovalHandlers }): ReactElement {
  if (message.role === "user") {
    return (
      <div className="message user" data-testid="user-message">
        {blocksOf(message).map((block) => (block.kind === "text" ? block.text : ""))}
      </div>
    );
  }
  return (
    <div className="message assistant" data-testid="assistant-message">
      {blocksOf(message).map((block, index) =>
        block.kind === "text" ? (
          // Blocks only grow at the end and never move, so their position is a stable key.
          // biome-ignore lint/suspicious/noArrayIndexKey: see above
          <p key={index} data-testid="assistant-text">
            {block.text}
          </p>
        ) : (
          <ToolCallView key={block.part.toolCallId} part={block.part} handlers={handlers} />
        ),
      )}
    </div>
  );
}

/** A tool call: its input, the Approve / Deny buttons while it waits, then its outcome. */
function ToolCallView({ part, handlers }: { part: ToolPart; handlers: ApprovalHandlers }): ReactElement {
  const name = part.type === "dynamic-tool" ? part.toolName : part.type.slice("tool-".length);
  return (
    <div className={`tool-call ${part.state}`} data-testid="tool-call" data-state={part.state}>
      <div className="tool-title">
        <code>{name}</code> <code className="tool-input">{JSON.stringify(part.input ?? {})}</code>
      </div>
      {part.state === "approval-requested" ? (
        <div className="tool-decision">
          <span>This needs your approval.</span>
          <button type="button" data-testid="approve" onClick={() => handlers.decide(part.approval.id, true)}>
            Approve
          </button>
          <button
            type="button"
            className="deny"
            data-testid="deny"
            onClick={() => handlers.decide(part.approval.id, false)}
          >
            Deny
          </button>
        </div>
      ) : null}
      {part.state === "approval-responded" ? (
        <div className="tool-outcome">{part.approval.approved ? "Approved" : "Denied"}: sending…</div>
      ) : null}
      {part.state === "output-available" ? (
        <div className="tool-outcome" data-testid="tool-result">
          Done: <code>{JSON.stringify(part.output)}</code>
        </div>
      ) : null}
      {part.state === "output-denied" ? (
        <div className="tool-outcome" data-testid="tool-denied">
          Denied: the tool did not run.
        </div>
      ) : null}
      {part.state === "output-error" ? <div className="tool-outcome error">Failed: {part.errorText}</div> : null}
    </div>
  );
}
