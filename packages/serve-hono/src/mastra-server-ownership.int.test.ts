import type { InngestAgent } from "@mastra/inngest-agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedBank, serveBank } from "./test/served-bank.ts";

// The owner rule through Mastra's own server and auth, as real HTTP requests: the authenticated
// user owns the runs it starts, another user is refused, an anonymous request never gets in.
describe("Mastra's server with auth, in front of a durable agent", () => {
  let served: ServedBank;
  let durableAgent: InngestAgent;
  let post: ServedBank["post"];
  let startAs: ServedBank["startAs"];

  beforeAll(async () => {
    served = await serveBank({ auth: true });
    ({ durableAgent, post, startAs } = served);
  });

  afterAll(async () => {
    await served?.close();
  });

  it("refuses anonymous requests to the agent routes", async () => {
    expect((await post("stream", { messages: "Send 5" })).status).toBe(401);
    expect((await post("observe", { runId: "any-run", offset: 0 })).status).toBe(401);
  });

  it("a run started by an authenticated user is that user's: the owner rule holds outside the server too", async () => {
    const { runId } = await startAs("user-a");
    const anonymous = await durableAgent.observe(runId).catch((caught: unknown) => caught);
    expect((anonymous as { code?: string }).code).toBe("RUN_FORBIDDEN");
    const owner = await durableAgent.observe(runId, { resourceId: "user-a", offset: 0 });
    expect(await owner.output.finishReason).toBe("suspended");
  });

  it("resume-stream: another user gets 403, the owner continues the run", async () => {
    const { runId, toolCallId } = await startAs("user-a");
    const body = { runId, toolCallId, resumeData: { approved: true } };
    expect((await post("resume-stream", body, "user-b")).status).toBe(403);
    const resumed = await post("resume-stream", body, "user-a");
    expect(resumed.status).toBe(200);
    expect(await resumed.text()).toContain("Done.");
  });

  it("observe: without callerIdentityMiddleware(), the route passes no identity and reads no owned run", async () => {
    const { runId } = await startAs("user-a");
    for (const user of ["user-a", "user-b"]) {
      const response = await post("observe", { runId, offset: 0 }, user);
      const text = response.status === 200 ? await response.text() : "";
      expect(text).not.toContain("tool-call-approval");
      expect(text).not.toContain('"transfer"');
    }
  });

  it("recover: without callerIdentityMiddleware(), no one reads an owned run's history through it", async () => {
    const { runId } = await startAs("user-a");
    for (const user of ["user-a", "user-b"]) {
      const response = await post("recover", { runId }, user);
      expect(response.status, user).not.toBe(200);
      expect(await response.text()).not.toContain("tool-call-approval");
    }
  });

  it("approve-tool-call and decline-tool-call: another user gets 403, the owner decides the waiting call", async () => {
    const approved = await startAs("user-a");
    expect((await post("approve-tool-call", approved, "user-b")).status).toBe(403);
    const approval = await post("approve-tool-call", approved, "user-a");
    expect(approval.status).toBe(200);
    expect(await approval.text()).toContain("Done.");

    const declined = await startAs("user-a");
    expect((await post("decline-tool-call", declined, "user-b")).status).toBe(403);
    const decline = await post("decline-tool-call", { ...declined, reason: "not today" }, "user-a");
    expect(decline.status).toBe(200);
    expect(await decline.text()).toContain("tool-output-denied");
  });
});
