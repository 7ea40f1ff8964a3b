import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedBank, serveBank } from "./test/served-bank.ts";

// Without Mastra auth: runs started through the server have no owner, and the routes that continue
// a waiting run reach the durable run (not the wrapped agent's in-process one).
describe("Mastra's server without auth, in front of a durable agent", () => {
  let served: ServedBank;

  beforeAll(async () => {
    served = await serveBank({ auth: false });
  });

  afterAll(async () => {
    await served?.close();
  });

  it("resume-stream continues the durable run", async () => {
    const { runId, toolCallId } = await served.startAs();
    const resumed = await served.post("resume-stream", { runId, toolCallId, resumeData: { approved: true } });
    expect(resumed.status).toBe(200);
    expect(await resumed.text()).toContain("Done.");
  });

  it("approve-tool-call and decline-tool-call decide the waiting call", async () => {
    const approved = await served.startAs();
    const approval = await served.post("approve-tool-call", approved);
    expect(approval.status).toBe(200);
    expect(await approval.text()).toContain("Done.");
    const declined = await served.startAs();
    const decline = await served.post("decline-tool-call", declined);
    expect(decline.status).toBe(200);
    expect(await decline.text()).toContain("tool-output-denied");
  });

  it("approve-tool-call-generate answers with the whole output of the continued run", async () => {
    const approved = await served.startAs();
    const approval = await served.post("approve-tool-call-generate", approved);
    expect(approval.status).toBe(200);
    expect(((await approval.json()) as { text?: string }).text).toBe("Done.");
  });

  it("recover streams an unowned run from its start: Inngest re-drives the run itself", async () => {
    const { runId } = await served.startAs();
    const recovered = await served.post("recover", { runId });
    expect(recovered.status).toBe(200);
    const text = await recovered.text();
    expect(text).toContain('"start"');
    expect(text).toContain("tool-call-approval");
  });
});
