import type { Event } from "@mastra/core/events";
import { ATTEMPT_SUPERSEDED_EVENT_TYPE } from "@mastra/inngest-core";
import { type ProjectableChunk, projectChunk } from "./chunk-projection.ts";
import type { RunResult } from "./drive-run.ts";
import type { ObserverSegment } from "./run-observers.ts";
import { terminalEventTypes } from "./run-observers.ts";

/** The producer key a step's events carry. */
interface Producer {
  stepId: string;
  attempt: number;
}

/**
 * The invariants of one run against the model: it ended as the model says; the caller's stream
 * ended; its history has each index once, in order, one terminal event at the end, the model's text
 * and one result per executed call; `observe()` from 0 streams what the history holds; every connection
 * of the observers received exactly the history from its offset, once each. One line per violation.
 */
export function runViolations(result: RunResult): string[] {
  const { plan, expected } = result;
  const violations = result.problems.map((problem) => `${plan.runId}: ${problem}`);
  const fail = (message: string): void => {
    violations.push(`${plan.runId}: ${message}`);
  };
  if (result.endedAt === undefined) {
    fail(
      `did not end within the bound (engine: ${result.engineStatus ?? "unknown"}, caller ended: ${result.callerEnded}, last chunk: ${result.callerTypes.at(-1) ?? "none"}, resumes: ${result.resumes.join("; ") || "none"})`,
    );
    return violations;
  }
  if (result.engineStatus !== expected.status) {
    fail(`ended ${result.engineStatus}, the model expects ${expected.status}`);
  }
  if (result.callerTypes.at(-1) !== "finish") {
    fail(`the caller's stream ended with ${result.callerTypes.at(-1)}, not finish`);
  }
  const log = result.log;
  if (log === undefined) {
    fail("its history could not be read after it ended");
    return violations;
  }
  const fromHistory = log
    .filter((event) => event.type === "chunk")
    .flatMap((event) => projectChunk(event.data as ProjectableChunk));
  if (JSON.stringify(result.replay) !== JSON.stringify(fromHistory)) {
    fail(
      `observe() from 0 streamed ${JSON.stringify(result.replay)}, the history holds ${JSON.stringify(fromHistory)}`,
    );
  }
  violations.push(...logViolations(result, log).map((message) => `${plan.runId}: ${message}`));
  result.segments.forEach((segments, observer) => {
    for (const segment of segments) {
      for (const message of segmentViolations(segment, log)) {
        fail(`observer ${observer} from ${segment.offset}: ${message}`);
      }
    }
  });
  return violations;
}

function logViolations(result: RunResult, log: Event[]): string[] {
  const violations: string[] = [];
  const indices = log.map((event) => event.index);
  if (
    indices.some(
      (index, position) => typeof index !== "number" || (position > 0 && index <= (indices[position - 1] as number)),
    )
  ) {
    violations.push(`history indices are not strictly increasing: ${indices.join(",")}`);
  }
  const terminals = log.filter((event) => terminalEventTypes.includes(event.type));
  if (terminals.length !== 1 || !terminalEventTypes.includes(log.at(-1)?.type ?? "")) {
    violations.push(`history holds ${terminals.length} terminal events, last event ${log.at(-1)?.type}`);
  }
  const chunks = log
    .filter((event) => event.type === "chunk")
    .map((event) => event.data as { type: string; payload?: { text?: string; toolCallId?: string } });
  const text = chunks
    .filter((chunk) => chunk.type === "text-delta")
    .map((chunk) => chunk.payload?.text ?? "")
    .join("");
  if (text !== result.expected.text) {
    violations.push(`history text ${JSON.stringify(text)}, the model expects ${JSON.stringify(result.expected.text)}`);
  }
  for (const call of result.expected.toolCalls) {
    const results = chunks.filter(
      (chunk) => chunk.type === "tool-result" && chunk.payload?.toolCallId === call.toolCallId,
    );
    const denials = chunks.filter(
      (chunk) => chunk.type === "tool-output-denied" && chunk.payload?.toolCallId === call.toolCallId,
    );
    const expectedResults = call.executes ? 1 : 0;
    const expectedDenials = call.decision === "deny" ? 1 : 0;
    if (results.length !== expectedResults || denials.length !== expectedDenials) {
      violations.push(
        `${call.toolCallId} (${call.tool}, ${call.decision}): ${results.length} results and ${denials.length} denials in the history, the model expects ${expectedResults} and ${expectedDenials}`,
      );
    }
  }
  return violations;
}

/**
 * One observer connection against the history: each index once, in order, and exactly the
 * history's indices from its offset (to its last index when it left early). Events the history
 * leaves out are allowed only when they belong to an attempt of a step that a later attempt
 * superseded, as the stream cache documents for live subscribers.
 */
export function segmentViolations(segment: ObserverSegment, log: Event[]): string[] {
  const violations: string[] = [];
  const byIndex = new Map(log.map((event) => [event.index as number, event]));
  const newestAttempt = new Map<string, number>();
  for (const event of log) {
    const producer = (event as { producer?: Producer }).producer;
    if (producer !== undefined) {
      newestAttempt.set(producer.stepId, Math.max(newestAttempt.get(producer.stepId) ?? 0, producer.attempt));
    }
  }
  const received: number[] = [];
  let previous = -1;
  for (const event of segment.events) {
    if (typeof event.index !== "number") {
      violations.push(`received a ${event.type} event without an index`);
      continue;
    }
    if (event.index <= previous) {
      violations.push(`received index ${event.index} after ${previous}`);
    }
    previous = Math.max(previous, event.index);
    const stored = byIndex.get(event.index);
    if (stored === undefined) {
      const producer = (event as { producer?: Producer }).producer;
      const superseded =
        event.type === ATTEMPT_SUPERSEDED_EVENT_TYPE ||
        (producer !== undefined && (newestAttempt.get(producer.stepId) ?? -1) > producer.attempt);
      if (!superseded) {
        violations.push(`received index ${event.index} (${event.type}), which the history does not hold`);
      }
      continue;
    }
    if (stored.id !== event.id) {
      violations.push(`received another event at index ${event.index} than the history holds`);
    }
    received.push(event.index);
  }
  const until = segment.disconnected ? previous : Number.POSITIVE_INFINITY;
  const wanted = log.map((event) => event.index as number).filter((index) => index >= segment.offset && index <= until);
  const got = new Set(received);
  const missing = wanted.filter((index) => !got.has(index));
  if (missing.length > 0) {
    violations.push(`missed indices ${missing.slice(0, 20).join(",")}${missing.length > 20 ? "…" : ""}`);
  }
  if (!segment.disconnected && !segment.ended) {
    violations.push(`never received the terminal event (last index ${previous})`);
  }
  return violations;
}
