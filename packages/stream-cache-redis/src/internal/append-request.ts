import { randomUUID } from "node:crypto";
import {
  createSupersededMarker,
  EVENT_BATCH_KIND,
  EVENTS_LOST_EVENT_TYPE,
  type IndexedAppendOutcome,
  type IndexedAppendRequest,
  type StreamEventEnvelope,
} from "@mastra/inngest-core";

/** The append script's reply: the lost range (`-1, -1` for none), then one row per entry. */
export type AppendReply = [[number, number], ...AppendRow[]];

/** One entry's row of the reply: status, index, marker index, current attempt (-1 where none applies). */
export type AppendRow = [number, number, number, number];

/** What {@link appendArguments} needs beyond the request. */
export interface AppendArgumentsOptions {
  ttlMs: number;
  /** `SPUBLISH` on a cluster, where PUBLISH would be broadcast to every node; `PUBLISH` otherwise. */
  publishCommand: "PUBLISH" | "SPUBLISH";
  /** The next index this process's acknowledged appends imply, or -1. */
  expectedNext: number;
  /** Encodes a value as JSON text, refusing one too large. */
  encode: (value: unknown) => string;
}

const statusNames = ["appended", "duplicate", "stale", "limit"] as const;

/** The script's ARGV for a request, in the order `appendScript` documents. */
export function appendArguments(
  request: IndexedAppendRequest,
  options: AppendArgumentsOptions,
): Array<string | number> {
  const first = request.entries[0]?.value;
  const argumentsList: Array<string | number> = [
    options.ttlMs,
    request.maxEvents ?? -1,
    request.notifyChannel ?? "",
    request.notifyChannel === undefined ? "" : messageHead(first),
    request.entries.length,
    options.publishCommand,
    options.expectedNext,
    lostNoticeFields(first),
  ];
  const markerHeads = new Set<string>();
  for (const entry of request.entries) {
    const { index: _index, ...envelope } = entry.value;
    const producer = entry.producer;
    // Only the first event of an attempt in a batch can start a newer attempt; only it carries
    // the marker the script stores if it does.
    const markerKey = producer === undefined ? "" : `${producer.stepId}#${producer.attempt}`;
    const carriesMarker = producer !== undefined && !markerHeads.has(markerKey);
    if (carriesMarker) {
      markerHeads.add(markerKey);
    }
    const marker = carriesMarker ? markerHead(entry.value) : undefined;
    argumentsList.push(
      entry.key,
      options.encode(envelope),
      producer?.stepId ?? "",
      producer?.attempt ?? -1,
      entry.exemptFromLimit === true ? "1" : "0",
      marker?.head ?? "",
      marker?.key ?? "",
    );
  }
  return argumentsList;
}

/** The outcome of each entry, from its row of the script's reply. */
export function appendOutcomes(request: IndexedAppendRequest, rows: readonly AppendRow[]): IndexedAppendOutcome[] {
  return rows.map(([status, index, markerIndex, currentAttempt], position) => {
    const name = statusNames[status];
    if (name === "appended") {
      if (markerIndex < 0) {
        return { status: name, index };
      }
      const entry = request.entries[position];
      const producer = entry?.producer;
      const marker = createSupersededMarker(entry?.value as StreamEventEnvelope, {
        stepId: producer?.stepId ?? "",
        attempt: producer?.attempt ?? 0,
        supersededAttempt: currentAttempt,
      });
      return { status: name, index, marker: { ...marker, index: markerIndex } };
    }
    if (name === "duplicate") {
      return { status: name, index };
    }
    return name === "stale" ? { status: name, currentAttempt } : { status: "limit" };
  });
}

/** The batch message's JSON up to the opening bracket of its events; the script appends the rest. */
function messageHead(first: StreamEventEnvelope | undefined): string {
  const message = JSON.stringify({
    type: EVENT_BATCH_KIND,
    id: randomUUID(),
    runId: first?.runId ?? "",
    createdAt: new Date().toISOString(),
    data: { kind: EVENT_BATCH_KIND, version: 1, events: [] },
  });
  return message.slice(0, -"]}}".length);
}

/** The fields of an `events-lost` notice after its index and id, as JSON text without braces. */
function lostNoticeFields(first: StreamEventEnvelope | undefined): string {
  const fields = JSON.stringify({
    type: EVENTS_LOST_EVENT_TYPE,
    runId: first?.runId ?? "",
    createdAt: new Date().toISOString(),
  });
  return fields.slice(1, -1);
}

/** The supersession marker's JSON up to its `supersededAttempt` value, which the script fills in. */
function markerHead(first: StreamEventEnvelope): { head: string; key: string } {
  const producer = first.producer as NonNullable<StreamEventEnvelope["producer"]>;
  const marker = createSupersededMarker(first, {
    stepId: producer.stepId,
    attempt: producer.attempt,
    supersededAttempt: 0,
  });
  const text = JSON.stringify(marker);
  return { head: text.slice(0, -"0}}".length), key: `id:${marker.id}` };
}
