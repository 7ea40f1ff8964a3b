import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { createInngestAgent } from "@mastra/inngest-agent";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Inngest, type ServeHandlerOptions } from "inngest";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createServe } from "./create-serve.ts";

const signingKey = `signkey-test-${"ab".repeat(32)}`;

afterEach(() => {
  vi.unstubAllEnvs();
});

/** An adapter that records what it was given and returns a marker handler. */
function recordingAdapter() {
  const calls: ServeHandlerOptions[] = [];
  const adapter = (options: ServeHandlerOptions) => {
    calls.push(options);
    return { handler: calls.length };
  };
  return { adapter, calls };
}

function appWith(inngest: Inngest.Any) {
  const agent = createInngestAgent({
    agent: new Agent({
      id: "served",
      name: "served",
      instructions: "Answer.",
      model: scriptedModel([textTurn("ok")]) as never,
    }),
    inngest,
  });
  const mastra = new Mastra({ agents: { served: agent as never }, logger: false });
  return { agent, mastra };
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

describe("createServe", () => {
  it("hands the adapter the client, the collected and the user's functions, and the register options", () => {
    const inngest = new Inngest({ id: "served-app", isDev: true, logger: silentLogger });
    const { agent, mastra } = appWith(inngest);
    const extra = inngest.createFunction({ id: "extra", triggers: [{ event: "test/extra" }] }, async () => "extra");
    const { adapter, calls } = recordingAdapter();

    const handler = createServe(adapter)({
      mastra,
      inngest,
      functions: [extra],
      registerOptions: { servePath: "/api/inngest", streaming: false },
    });

    expect(handler).toEqual({ handler: 1 });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.client).toBe(inngest);
    expect(calls[0]?.functions).toEqual([...agent.getInngestFunctions(), extra]);
    expect(calls[0]?.servePath).toBe("/api/inngest");
    expect(calls[0]?.streaming).toBe(false);
  });

  it("never lets registerOptions replace the client or the functions", () => {
    const inngest = new Inngest({ id: "kept", isDev: true, logger: silentLogger });
    const { agent, mastra } = appWith(inngest);
    const { adapter, calls } = recordingAdapter();
    const other = new Inngest({ id: "other", isDev: true, logger: silentLogger });

    createServe(adapter)({ mastra, inngest, registerOptions: { client: other, functions: [] } as never });

    expect(calls[0]?.client).toBe(inngest);
    expect(calls[0]?.functions).toEqual(agent.getInngestFunctions());
  });

  it("rejects an adapter that is not a function, and a missing client", () => {
    expect(
      MastraInngestError.isInstance(
        thrown(() => createServe("express" as never)),
        ErrorCode.INVALID_OPTION,
      ),
    ).toBe(true);
    const { mastra } = appWith(new Inngest({ id: "no-client", isDev: true, logger: silentLogger }));
    const { adapter } = recordingAdapter();
    const error = thrown(() => createServe(adapter)({ mastra, inngest: undefined as never }));
    expect(MastraInngestError.isInstance(error, ErrorCode.INVALID_OPTION)).toBe(true);
  });
});

describe("createServe in production", () => {
  it("refuses a client created with isDev: true, saying why and how to proceed", () => {
    vi.stubEnv("NODE_ENV", "production");
    const inngest = new Inngest({ id: "dev-in-prod", isDev: true, logger: silentLogger });
    const { mastra } = appWith(inngest);
    const { adapter, calls } = recordingAdapter();

    const error = thrown(() => createServe(adapter)({ mastra, inngest }));

    expect(MastraInngestError.isInstance(error, ErrorCode.DEV_MODE_IN_PRODUCTION)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('NODE_ENV is "production"');
    expect(message).toContain("isDev: true");
    expect(message).toContain("does not verify request signatures");
    expect(message).toContain("allowDevModeInProduction: true");
    expect(calls).toHaveLength(0);
  });

  it("refuses a client put in dev mode by INNGEST_DEV", () => {
    vi.stubEnv("NODE_ENV", "production");
    vi.stubEnv("INNGEST_DEV", "1");
    const inngest = new Inngest({ id: "env-dev", logger: silentLogger });
    const { mastra } = appWith(inngest);

    const error = thrown(() => createServe(recordingAdapter().adapter)({ mastra, inngest }));

    expect(MastraInngestError.isInstance(error, ErrorCode.DEV_MODE_IN_PRODUCTION)).toBe(true);
    expect((error as Error).message).toContain('INNGEST_DEV is set (to "1")');
  });

  it("refuses registerOptions that switch signature validation off", () => {
    vi.stubEnv("NODE_ENV", "production");
    const inngest = new Inngest({ id: "skip", isDev: false, signingKey, logger: silentLogger });
    const { mastra } = appWith(inngest);

    const error = thrown(() =>
      createServe(recordingAdapter().adapter)({
        mastra,
        inngest,
        registerOptions: { skipSignatureValidation: true } as never,
      }),
    );

    expect(MastraInngestError.isInstance(error, ErrorCode.DEV_MODE_IN_PRODUCTION)).toBe(true);
    expect((error as Error).message).toContain("skipSignatureValidation");
  });

  it("serves a client in cloud mode, also when INNGEST_DEV says 0", () => {
    vi.stubEnv("NODE_ENV", "production");
    vi.stubEnv("INNGEST_DEV", "0");
    const inngest = new Inngest({ id: "cloud", signingKey, logger: silentLogger });
    const { mastra } = appWith(inngest);
    const { adapter, calls } = recordingAdapter();

    createServe(adapter)({ mastra, inngest });

    expect(inngest.mode).toBe("cloud");
    expect(calls).toHaveLength(1);
  });

  it("serves a dev-mode client when allowDevModeInProduction is set", () => {
    vi.stubEnv("NODE_ENV", "production");
    const inngest = new Inngest({ id: "allowed", isDev: true, logger: silentLogger });
    const { mastra } = appWith(inngest);
    const { adapter, calls } = recordingAdapter();

    createServe(adapter)({ mastra, inngest, allowDevModeInProduction: true });

    expect(calls).toHaveLength(1);
  });

  it("serves a dev-mode client outside production", () => {
    vi.stubEnv("NODE_ENV", "development");
    const inngest = new Inngest({ id: "local", isDev: true, logger: silentLogger });
    const { mastra } = appWith(inngest);
    const { adapter, calls } = recordingAdapter();

    createServe(adapter)({ mastra, inngest });

    expect(calls).toHaveLength(1);
  });
});
