// What a live consumer does with the `attempt-superseded` notice: when a step that already streamed
// runs again (its worker died), the chunks its failed attempt delivered are to be dropped.
import type { Event } from "@mastra/core/events";

/** The notice a live subscriber of a run's stream topic gets before a retried step's events. */
export interface AttemptSuperseded {
  /** The step that runs again, for example `llm:1`. */
  stepId: string;
  /** The attempt now running, from 0. */
  attempt: number;
  /** The newest attempt it replaces. */
  supersededAttempt: number;
  /** How many text chunks the replaced attempts had delivered. */
  droppedTextChunks: number;
}

/** Follows a run's stream topic and keeps the text of each step's current attempt only. */
export interface SupersededAttemptTracker {
  /** Subscribe it to `agent.stream.<runId>` on the agent's pubsub. */
  readonly listener: (event: Event) => void;
  /** The notices received so far. */
  readonly notices: readonly AttemptSuperseded[];
  /** The run's text without what superseded attempts streamed. */
  text(): string;
}

interface TopicEvent {
  type: string;
  data?: { type?: string; payload?: { text?: string } } & Partial<AttemptSuperseded>;
  producer?: { stepId: string; attempt: number };
}

/** Creates a tracker; `onNotice` runs when a notice arrives. */
export function trackSupersededAttempts(onNotice: (notice: AttemptSuperseded) => void): SupersededAttemptTracker {
  const attempts = new Map<string, { stepId: string; attempt: number; text: string; chunks: number }>();
  const notices: AttemptSuperseded[] = [];
  const listener = (event: Event): void => {
    const { type, data, producer } = event as unknown as TopicEvent;
    if (type === "attempt-superseded" && data?.stepId !== undefined) {
      const { stepId, attempt = 0, supersededAttempt = 0 } = data;
      let droppedTextChunks = 0;
      for (const [key, entry] of attempts) {
        if (entry.stepId === stepId && entry.attempt <= supersededAttempt) {
          droppedTextChunks += entry.chunks;
          attempts.delete(key);
        }
      }
      const notice = { stepId, attempt, supersededAttempt, droppedTextChunks };
      notices.push(notice);
      onNotice(notice);
    } else if (type === "chunk" && data?.type === "text-delta" && producer !== undefined) {
      const key = `${producer.stepId}#${producer.attempt}`;
      const entry = attempts.get(key) ?? { stepId: producer.stepId, attempt: producer.attempt, text: "", chunks: 0 };
      entry.text += data.payload?.text ?? "";
      entry.chunks++;
      attempts.set(key, entry);
    }
  };
  return {
    listener,
    notices,
    text: () => [...attempts.values()].map((entry) => entry.text).join(""),
  };
}
