import type { Event } from "@mastra/core/events";
import type { StepExecution } from "@mastra/inngest-dev-server";
import { describe, expect, it } from "vitest";
import type { FaultRecord } from "./fault-log.ts";
import { faultsThatStruck, formatHangReport, type HangEvidence } from "./hang-report.ts";

const startedAt = Date.parse("2026-12-01T10:00:00.000Z");

const chunk = (index: number, text: string): Event =>
  ({
    id: `e${index}`,
    type: "chunk",
    runId: "r-1",
    data: { type: "text-delta", payload: { text } },
    createdAt: new Date(startedAt + index * 10),
    index,
    producer: { stepId: "llm:0", attempt: 0, sequence: index },
  }) as Event;

const step = (name: string, attempt: number, atMs: number, discarded = false): StepExecution => ({
  name,
  hashedId: `h-${name}`,
  attempt,
  outcome: "ok",
  reportedBy: "checkpoint",
  discarded,
  at: startedAt + atMs,
});

const fault = (kind: FaultRecord["kind"], atMs: number, detail: string): FaultRecord => ({
  kind,
  at: startedAt + atMs,
  detail,
});

const evidence: HangEvidence = {
  runId: "r-1",
  startedAt,
  reportedAt: startedAt + 121_500,
  boundMs: 120_000,
  driverWaitingFor: "resume(call-2)",
  caller: {
    ended: false,
    chunkTypes: ["start", "text-delta", "tool-call", "tool-call-approval"],
    resumes: ["call-2 +1200 ok"],
    startFailures: [],
    problems: [],
  },
  record: { value: { status: "suspended", pendingResumes: [{ toolCallId: "call-2" }], lastIndex: 11 } },
  history: { value: Array.from({ length: 12 }, (_, index) => chunk(index, `w${index}`)) },
  engine: {
    id: "01RUN",
    status: "Running",
    blockedOn: ["h-wait"],
    steps: [step("llm:0", 0, 800), step("tool:call-2", 0, 1_000, true), step("tool:call-2", 1, 2_500)],
    events: [
      { name: "mastra-inngest/agent.chaos.run", ts: startedAt + 10 },
      { name: "mastra-inngest/agent.chaos.resume", ts: startedAt + 1_200 },
    ],
  },
  faults: [fault("worker-kill", 900, "worker 1 pid 42")],
};

describe("formatHangReport", () => {
  it("names the run, where its driver waits, what the caller saw, the record, the history tail, the engine and the faults", () => {
    expect(formatHangReport(evidence).split("\n")).toEqual([
      "r-1: did not end within 120 s; report taken +121.5 s",
      "  suite: its driver of the run still waits for resume(call-2)",
      "  caller: stream not ended after 4 chunks, last start, text-delta, tool-call, tool-call-approval; " +
        "resumes: call-2 +1200 ok; failed starts: none; problems: none",
      '  record: {"status":"suspended","pendingResumes":[{"toolCallId":"call-2"}],"lastIndex":11}',
      "  history: 12 events, the last 10:",
      ...[2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(
        (index) =>
          `    ${index} chunk llm:0@0#${index} text-delta w${index} 10:00:00.${String(index * 10).padStart(3, "0")}`,
      ),
      "  engine: run 01RUN Running, blocked on h-wait; events: +0.0 s mastra-inngest/agent.chaos.run; +1.2 s mastra-inngest/agent.chaos.resume",
      "  engine steps: 3 executions:",
      "    +0.8 s llm:0@0 ok by checkpoint",
      "    +1.0 s tool:call-2@0 ok by checkpoint, discarded",
      "    +2.5 s tool:call-2@1 ok by checkpoint",
      "  faults while it ran: 1:",
      "    +0.9 s worker-kill worker 1 pid 42",
    ]);
  });

  it("says what could not be read, and a run the engine does not know", () => {
    const report = formatHangReport({
      ...evidence,
      driverWaitingFor: undefined,
      record: { value: undefined },
      history: { error: "the history did not settle within 10000 ms" },
      engine: undefined,
      faults: [],
    });
    expect(report).toContain("  suite: its driver of the run gave up at the bound");
    expect(report).toContain("  record: none");
    expect(report).toContain("  history: unreadable (the history did not settle within 10000 ms)");
    expect(report).toContain("  engine: no run (never started, or no longer kept)");
    expect(report).toContain("  faults while it ran: 0");
  });
});

describe("faultsThatStruck", () => {
  it("keeps the shared faults within the run's time and the faults aimed at this run only", () => {
    const records = [
      fault("redis-restart", -10, "before the run"),
      fault("worker-kill", 100, "worker 0 pid 1"),
      fault("redis-client-kill", 200, "3 pubsub connections"),
      fault("observer-reconnect", 300, "r-1 from 4"),
      fault("observer-reconnect", 400, "r-10 from 2"),
      fault("step-crash", 500, "r-1.1 llm:1"),
      fault("step-crash", 600, "r-1 tool:call-2"),
      fault("redis-restart", 5_000, "after the report"),
    ];
    expect(faultsThatStruck(records, "r-1", startedAt, startedAt + 1_000).map((record) => record.detail)).toEqual([
      "worker 0 pid 1",
      "3 pubsub connections",
      "r-1 from 4",
      "r-1 tool:call-2",
    ]);
  });
});
