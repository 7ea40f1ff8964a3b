import { ErrorCode, MastraInngestError, type PendingResume, type RunRecord } from "@mastra/inngest-core";
import { describe, expect, it } from "vitest";
import { selectPendingResume } from "./resume-checks.ts";

const pending = (toolCallId: string): PendingResume => ({
  toolCallId,
  toolName: "transfer",
  kind: "approval",
  requestedAt: "2026-12-06T10:00:00.000Z",
});

const record = (overrides: Partial<RunRecord>): RunRecord => ({
  version: 1,
  runId: "run-1",
  agentId: "bank",
  status: "suspended",
  pendingResumes: [pending("call-1")],
  createdAt: "2026-12-06T09:59:00.000Z",
  updatedAt: "2026-12-06T10:00:00.000Z",
  ...overrides,
});

/** The code of the error `work` throws, checked to be this project's error type. */
function codeOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    expect(MastraInngestError.isInstance(error)).toBe(true);
    return (error as MastraInngestError).code;
  }
  throw new Error("expected an error");
}

describe("selectPendingResume", () => {
  it("picks the only waiting call when no toolCallId is given", () => {
    expect(selectPendingResume("run-1", record({}), undefined)).toEqual(pending("call-1"));
  });

  it("picks the named call among several", () => {
    const several = record({ pendingResumes: [pending("call-1"), pending("call-2")] });
    expect(selectPendingResume("run-1", several, "call-2").toolCallId).toBe("call-2");
  });

  it("refuses an unknown run", () => {
    expect(codeOf(() => selectPendingResume("run-1", undefined, undefined))).toBe(ErrorCode.RUN_NOT_FOUND);
  });

  it("refuses a run whose wait expired, by code and by the name older records carry", () => {
    const message = "no decision arrived within 1000 ms";
    const byCode = record({
      status: "failed",
      error: { name: "MastraInngestError", code: ErrorCode.RESUME_EXPIRED, message },
    });
    const byName = record({ status: "failed", error: { name: "RESUME_EXPIRED", message } });
    expect(codeOf(() => selectPendingResume("run-1", byCode, undefined))).toBe(ErrorCode.RESUME_EXPIRED);
    expect(codeOf(() => selectPendingResume("run-1", byName, undefined))).toBe(ErrorCode.RESUME_EXPIRED);
  });

  it("refuses a run that is not suspended", () => {
    for (const status of ["running", "finished", "failed", "aborted"] as const) {
      expect(codeOf(() => selectPendingResume("run-1", record({ status }), undefined))).toBe(
        ErrorCode.RUN_NOT_SUSPENDED,
      );
    }
  });

  it("refuses a toolCallId that is not waiting, naming those that are", () => {
    const work = () => selectPendingResume("run-1", record({}), "call-9");
    expect(codeOf(work)).toBe(ErrorCode.NO_PENDING_RESUME);
    expect(work).toThrow(/"call-9".*waiting: call-1/);
  });

  it("refuses to guess when several calls wait and none is named", () => {
    const several = record({ pendingResumes: [pending("call-1"), pending("call-2")] });
    const work = () => selectPendingResume("run-1", several, undefined);
    expect(codeOf(work)).toBe(ErrorCode.AMBIGUOUS_RESUME);
    expect(work).toThrow(/pass toolCallId \(one of call-1, call-2\)/);
  });

  it("refuses a suspended run that waits for nothing", () => {
    expect(codeOf(() => selectPendingResume("run-1", record({ pendingResumes: [] }), undefined))).toBe(
      ErrorCode.NO_PENDING_RESUME,
    );
  });
});
