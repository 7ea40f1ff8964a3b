import { setTimeout as sleep } from "node:timers/promises";
import type { Event } from "@mastra/core/events";
import { streamTopic } from "@mastra/inngest-core";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import { beforeDeadline } from "./deadline.ts";
import type { FaultLog } from "./fault-log.ts";
import type { Random } from "./random.ts";

/** What one connection of an observer received, from the offset it asked for. */
export interface ObserverSegment {
  offset: number;
  events: Event[];
  /** Whether it received the run's terminal event. */
  ended: boolean;
  /** Whether the observer left on purpose before the end (to reconnect). */
  disconnected: boolean;
}

/** Event types that end a run's stream. */
export const terminalEventTypes: readonly string[] = ["finish", "error", "abort"];

/**
 * One observer of a run, as a client on a flaky connection: it subscribes from a seeded offset
 * (the start, or somewhere in the history so far), may disconnect after a while and reconnect at a
 * seeded offset up to one past the last index it saw, at most twice, and otherwise follows the run
 * to its terminal event. Resolves with every connection's events, or when `deadline` passes.
 */
export async function observeRun(
  transport: CachingPubSub,
  runId: string,
  random: Random,
  faults: FaultLog,
  deadline: number,
): Promise<ObserverSegment[]> {
  const topic = streamTopic(runId);
  const segments: ObserverSegment[] = [];
  await sleep(random.integer(0, 1_500));
  let offset = 0;
  if (random.chance(0.5)) {
    // Within the history so far: an offset past a finished run's end waits for events that never come.
    const known = await beforeDeadline(transport.getHistory(topic), deadline, "getHistory()").catch(() => []);
    offset = random.integer(0, Math.max(0, known.length - 1));
  }
  let lastIndex = offset - 1;
  for (let connection = 0; ; connection++) {
    const segment: ObserverSegment = { offset, events: [], ended: false, disconnected: false };
    segments.push(segment);
    let end: () => void = () => {};
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    const callback = (event: Event): void => {
      segment.events.push(event);
      if (typeof event.index === "number") {
        lastIndex = Math.max(lastIndex, event.index);
      }
      if (terminalEventTypes.includes(event.type)) {
        segment.ended = true;
        end();
      }
    };
    if (!(await subscribeUntil(transport, topic, offset, callback, segment, deadline))) {
      return segments;
    }
    if (connection > 0) {
      faults.record("observer-reconnect", `${runId} from ${offset}`);
    }
    const leaves = connection < 2 && random.chance(0.5);
    const stayMs = leaves ? random.integer(50, 1_500) : Math.max(0, deadline - Date.now());
    await Promise.race([ended, sleep(stayMs)]);
    await unsubscribeWithin(transport, topic, callback);
    if (segment.ended || !leaves || Date.now() >= deadline) {
      return segments;
    }
    segment.disconnected = true;
    await sleep(random.integer(0, 800));
    offset = random.integer(0, lastIndex + 1);
  }
}

/** Subscribes, starting over while Redis is away; false when `deadline` passed first. */
async function subscribeUntil(
  transport: CachingPubSub,
  topic: string,
  offset: number,
  callback: (event: Event) => void,
  segment: ObserverSegment,
  deadline: number,
): Promise<boolean> {
  while (Date.now() < deadline) {
    try {
      await beforeDeadline(transport.subscribeFromOffset(topic, offset, callback), deadline, "subscribeFromOffset()");
      return true;
    } catch {
      // A failed subscription may have delivered part of the replay: start the connection over.
      await unsubscribeWithin(transport, topic, callback);
      segment.events.length = 0;
      segment.ended = false;
      await sleep(200);
    }
  }
  return false;
}

/** How long an unsubscribe may take, in ms: past it the observer leaves anyway, as a client would. */
const unsubscribeBoundMs = 5_000;

async function unsubscribeWithin(
  transport: CachingPubSub,
  topic: string,
  callback: (event: Event) => void,
): Promise<void> {
  await beforeDeadline(transport.unsubscribe(topic, callback), Date.now() + unsubscribeBoundMs, "unsubscribe()").catch(
    () => {},
  );
}
