import { useChat } from "@ai-sdk/react";
import { type FormEvent, type ReactElement, useEffect, useState } from "react";
import type { RunPosition } from "../run-position.ts";
import { createChatSession } from "./chat-session.ts";
import { MessageView } from "./message-view.tsx";

/** The conversation of the signed-in user (or the run a link opened), with its input. */
export function ChatView({ user, openRunId }: { user: string; openRunId?: string | undefined }): ReactElement {
  const [session] = useState(() => createChatSession(user, openRunId));
  const { messages, status, error, sendMessage, addToolApprovalResponse } = useChat({ chat: session.chat });
  const [reconnecting, setReconnecting] = useState(false);
  const [position, setPosition] = useState<RunPosition | undefined>(session.position());
  const [input, setInput] = useState("");

  useEffect(() => {
    session.onReconnecting = setReconnecting;
    session.onPosition = setPosition;
    return session.start();
  }, [session]);

  const busy = status === "submitted" || status === "streaming";
  const send = (event: FormEvent): void => {
    event.preventDefault();
    if (input.trim() === "" || busy) {
      return;
    }
    void sendMessage({ text: input });
    setInput("");
  };
  const decide = (approvalId: string, approved: boolean): void => {
    void addToolApprovalResponse({ id: approvalId, approved, ...(approved ? {} : { reason: "denied by the user" }) });
  };

  return (
    <main className="chat">
      <section className="messages" data-testid="messages">
        {messages.map((message) => (
          <MessageView key={message.id} message={message} handlers={{ decide }} />
        ))}
      </section>
      <StatusLine
        status={status}
        reconnecting={reconnecting}
        error={error}
        position={position}
        waiting={position?.state === "waiting"}
      />
      <form className="composer" onSubmit={send}>
        <input
          data-testid="message-input"
          placeholder="Order #1042 arrived broken. Can you refund it?"
          value={input}
          onChange={(event) => setInput(event.target.value)}
        />
        <button type="submit" data-testid="send" disabled={busy}>
          Send
        </button>
      </form>
    </main>
  );
}

/** What the page is doing, and where it is in the run (the run id and the next event's index). */
function StatusLine(props: {
  status: string;
  reconnecting: boolean;
  error: Error | undefined;
  position: RunPosition | undefined;
  waiting: boolean;
}): ReactElement {
  const { status, reconnecting, error, position, waiting } = props;
  let text = "";
  if (reconnecting) {
    text = "Connection lost: reconnecting…";
  } else if (error !== undefined) {
    text = describeError(error);
  } else if (status === "submitted" || status === "streaming") {
    text = "The agent is answering…";
  } else if (waiting) {
    text = "Waiting for your decision.";
  }
  return (
    <footer className="status">
      <span data-testid={error !== undefined && !reconnecting ? "error" : "status"}>{text}</span>
      {position ? (
        <span className="position" data-testid="position" title="the run's id and the next event's index">
          run {position.runId.slice(0, 8)} · event {position.offset} · {position.state}
        </span>
      ) : null}
    </footer>
  );
}

function describeError(error: Error): string {
  if (error.message.includes("RUN_FORBIDDEN")) {
    return "This conversation belongs to another user: the server refused to open it (RUN_FORBIDDEN).";
  }
  if (error.message.includes("RUN_NOT_FOUND")) {
    return "This conversation does not exist (RUN_NOT_FOUND).";
  }
  return `Something went wrong: ${error.message}`;
}
