import { Chat } from "@ai-sdk/react";
import { lastAssistantMessageIsCompleteWithApprovalResponses, type UIMessage } from "ai";
import { isRunGoing, RUN_POSITION_PART, type RunPosition } from "../run-position.ts";
import { loadChat, type SavedChat, saveChat } from "./chat-store.ts";
import { continueRunOptions, ResumableChatTransport } from "./resumable-transport.ts";

/** How long the page waits before each new attempt to reconnect, in milliseconds. */
const reconnectDelaysMs = [250, 500, 1000, 2000, 3000];
/** Attempts after which the page stops reconnecting and shows the error. */
const maxReconnectAttempts = 40;

/** A conversation of the signed-in user: the AI SDK's `Chat`, saved as it streams and reconnected when it is cut. */
export interface ChatSession {
  readonly chat: Chat<UIMessage>;
  /** Where the page is in the last run. */
  position(): RunPosition | undefined;
  /** Continues a run the page was in (after a reload); returns what stops the session's timers. */
  start(): () => void;
  /** Called when the page starts or stops reconnecting. */
  onReconnecting?: (reconnecting: boolean) => void;
  /** Called when the position changes. */
  onPosition?: (position: RunPosition | undefined) => void;
}

/**
 * A session on the user's saved conversation, or, with `openRunId`, on that run alone (a link to a
 * conversation): the page replays it from its first event, if the server lets this user see it.
 */
export function createChatSession(user: string, openRunId?: string): ChatSession {
  const saved: SavedChat =
    openRunId === undefined
      ? loadChat(user)
      : { chatId: crypto.randomUUID(), messages: [], position: { runId: openRunId, offset: 0, state: "streaming" } };
  let position = saved.position;
  let attempts = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const save = (): void => {
    // A link to someone's run is not this user's conversation: it is shown, not saved.
    if (openRunId === undefined) {
      saveChat(user, { chatId: chat.id, messages: chat.messages, ...(position ? { position } : {}) });
    }
  };
  const continueRun = (): void => {
    if (chat.status === "streaming" || chat.status === "submitted") {
      return;
    }
    void chat.sendMessage(undefined, continueRunOptions);
  };
  const reconnectLater = (): void => {
    if (attempts >= maxReconnectAttempts) {
      session.onReconnecting?.(false);
      return;
    }
    session.onReconnecting?.(true);
    const delay = reconnectDelaysMs[Math.min(attempts, reconnectDelaysMs.length - 1)];
    attempts++;
    clearTimeout(timer);
    timer = setTimeout(continueRun, delay);
  };

  const chat: Chat<UIMessage> = new Chat<UIMessage>({
    id: saved.chatId,
    messages: saved.messages,
    transport: new ResumableChatTransport(() => position),
    // Approve / Deny sends the decision as soon as every call of the step has one.
    sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
    onData: (part) => {
      if (part.type === RUN_POSITION_PART) {
        position = part.data as RunPosition;
        attempts = 0;
        session.onReconnecting?.(false);
        session.onPosition?.(position);
        // Everything before this part is in the messages now: they and the position agree.
        save();
      }
    },
    onFinish: ({ isDisconnect }) => {
      save();
      // A dropped connection (or a server that went away) while the run goes on: continue it.
      if (isDisconnect && isRunGoing(position)) {
        reconnectLater();
      }
    },
  });

  const session: ChatSession = {
    chat,
    position: () => position,
    start() {
      if (isRunGoing(position)) {
        continueRun();
      }
      const online = (): void => {
        if (isRunGoing(position) && chat.status === "error") {
          continueRun();
        }
      };
      window.addEventListener("online", online);
      return () => {
        clearTimeout(timer);
        window.removeEventListener("online", online);
      };
    },
  };
  return session;
}
