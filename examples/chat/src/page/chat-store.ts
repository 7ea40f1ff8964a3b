import type { UIMessage } from "ai";
import type { RunPosition } from "../run-position.ts";

/** What the page keeps of a conversation in `localStorage`, per user: it survives a reload. */
export interface SavedChat {
  /** The chat's id: the memory thread of its runs. */
  chatId: string;
  /** The messages as rendered. */
  messages: UIMessage[];
  /** Where the page is in the conversation's last run, stored with the messages rendered up to it. */
  position?: RunPosition;
}

const keyOf = (user: string): string => `durable-chat:${user}`;

/** The user's saved conversation, or a new one. */
export function loadChat(user: string): SavedChat {
  try {
    const saved = JSON.parse(localStorage.getItem(keyOf(user)) ?? "null") as SavedChat | null;
    if (saved !== null && typeof saved.chatId === "string" && Array.isArray(saved.messages)) {
      return saved;
    }
  } catch {
    // A value this page did not write: start afresh.
  }
  return { chatId: crypto.randomUUID(), messages: [] };
}

/** Saves the user's conversation; the messages and the position are written together, so they agree. */
export function saveChat(user: string, chat: SavedChat): void {
  localStorage.setItem(keyOf(user), JSON.stringify(chat));
}

/** Forgets the user's conversation (the runs and their history stay on the server). */
export function forgetChat(user: string): void {
  localStorage.removeItem(keyOf(user));
}
