import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { createInngestAgent } from "@mastra/inngest-agent";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Inngest, type ServeHandlerOptions } from "inngest";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createServe } from "./create-serve.ts";

const signingKey = `signkey-test-${"ab".repeat(32)}`;
const fallbackSigningKey = `signkey-test-${"cd".repeat(32)}`;
const serveOrigin = "https://app.example.com";

// Variables the production guard reads, cleared so the machine running the tests cannot change them.
const guardVariables = [
  "INNGEST_DEV",
  "INNGEST_SIGNING_KEY",
  "INNGEST_SIGNING_KEY_FALLBACK",
  "INNGEST_SERVE_ORIGIN",
  "INNGEST_SERVE_HOST",
  "INNGEST_ENABLE_UNAUTHED_SYNC",
];

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
  beforeEach(() => {
    for (const name of guardVariables) {
      vi.stubEnv(name, undefined);
    }
  });

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

    createServe(adapter)({ mastra, inngest, registerOptions: { serveOrigin } });

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

/** The error of creating a handler for `inngest` with these options; fails the test if none. */
function refusal(inngest: Inngest.Any, options: { registerOptions?: Record<string, unknown> } = {}) {
  const { mastra } = appWith(inngest);
  const { adapter, calls } = recordingAdapter();
  const error = thrown(() =>
    createServe(adapter)({ mastra, inngest, registerOptions: options.registerOptions as never }),
  );
  expect(calls, "no handler is created").toHaveLength(0);
  return error as MastraInngestError;
}

/** Creates a handler for `inngest`; returns how many the adapter made (1 when allowed). */
function served(
  inngest: Inngest.Any,
  options: { registerOptions?: Record<string, unknown>; allowDevModeInProduction?: boolean } = {},
) {
  const { mastra } = appWith(inngest);
  const { adapter, calls } = recordingAdapter();
  createServe(adapter)({
    mastra,
    inngest,
    registerOptions: options.registerOptions as never,
    allowDevModeInProduction: options.allowDevModeInProduction,
  });
  return calls.length;
}

const cloudClient = (options: { signingKey?: string; signingKeyFallback?: string } = { signingKey }) =>
  new Inngest({ id: "cloud-app", isDev: false, ...options, logger: silentLogger });

describe("createServe's production guard", () => {
  beforeEach(() => {
    for (const name of guardVariables) {
      vi.stubEnv(name, undefined);
    }
    vi.stubEnv("NODE_ENV", "production");
  });

  it.each(["production", "Production", "PRODUCTION", "prod", "Prod", " production "])(
    "treats NODE_ENV %j as production",
    (value) => {
      vi.stubEnv("NODE_ENV", value);
      const error = refusal(new Inngest({ id: "dev-client", isDev: true, logger: silentLogger }));
      expect(MastraInngestError.isInstance(error, ErrorCode.DEV_MODE_IN_PRODUCTION)).toBe(true);
      expect(error.message).toContain(`NODE_ENV is ${JSON.stringify(value)}`);
    },
  );

  it.each(["development", "test", "staging", "", undefined])(
    "leaves NODE_ENV %j alone, even with a key without a secret and a testing option",
    (value) => {
      vi.stubEnv("NODE_ENV", value);
      const inngest = cloudClient({ signingKey: "signkey-prod-" });
      expect(served(inngest, { registerOptions: { __testingAllowExpiredSignatures: true } })).toBe(1);
    },
  );

  it("serves a client in cloud mode with a signing key and serveOrigin", () => {
    expect(served(cloudClient(), { registerOptions: { serveOrigin } })).toBe(1);
  });

  it("serves with the keys and the origin taken from the environment", () => {
    vi.stubEnv("INNGEST_SIGNING_KEY", signingKey);
    vi.stubEnv("INNGEST_SIGNING_KEY_FALLBACK", fallbackSigningKey);
    vi.stubEnv("INNGEST_SERVE_ORIGIN", serveOrigin);
    expect(served(cloudClient({}))).toBe(1);
  });

  it("serves without serveOrigin when unsigned syncs are refused, by option or by environment", () => {
    expect(served(cloudClient(), { registerOptions: { enableUnauthedSync: false } })).toBe(1);
    vi.stubEnv("INNGEST_ENABLE_UNAUTHED_SYNC", "false");
    expect(served(cloudClient())).toBe(1);
  });

  it.each([
    ["the client option signingKey", { signingKey: "signkey-prod-" }, "signkey-prod-"],
    ["the client option signingKey", { signingKey: "signkey-test-   " }, "signkey-test-"],
    ["the client option signingKeyFallback", { signingKey, signingKeyFallback: "signkey-prod-" }, "signkey-prod-"],
  ])("refuses %s without a secret (%j)", (source, keys, shown) => {
    const error = refusal(cloudClient(keys), { registerOptions: { serveOrigin } });

    expect(MastraInngestError.isInstance(error, ErrorCode.UNSAFE_IN_PRODUCTION)).toBe(true);
    expect(error.message).toMatch(/^\[@mastra\/inngest-serve\] /);
    expect(error.message).toContain(`${source} has no secret after its "signkey-<env>-" prefix, got "${shown}"`);
    expect(error.message).toContain("set it to the full signing key");
  });

  it.each([
    ["INNGEST_SIGNING_KEY", "signingKey"],
    ["INNGEST_SIGNING_KEY_FALLBACK", "signingKeyFallback"],
  ])("refuses %s without a secret, naming the variable and the client option", (variable, option) => {
    vi.stubEnv("INNGEST_SIGNING_KEY", signingKey);
    vi.stubEnv(variable, "signkey-prod-");

    const error = refusal(cloudClient({}), { registerOptions: { serveOrigin } });

    expect(MastraInngestError.isInstance(error, ErrorCode.UNSAFE_IN_PRODUCTION)).toBe(true);
    expect(error.message).toContain(`${variable} has no secret`);
    expect(error.message).toContain(`client option ${option} or env ${variable}`);
  });

  it("judges the key the SDK verifies with: the client option wins over INNGEST_SIGNING_KEY", () => {
    vi.stubEnv("INNGEST_SIGNING_KEY", "signkey-prod-");
    expect(served(cloudClient(), { registerOptions: { serveOrigin } })).toBe(1);
  });

  it.each(["__testingAllowExpiredSignatures", "__testingSomethingNew"])(
    "refuses the SDK testing option registerOptions.%s",
    (name) => {
      const error = refusal(cloudClient(), { registerOptions: { serveOrigin, [name]: true } });

      expect(MastraInngestError.isInstance(error, ErrorCode.UNSAFE_IN_PRODUCTION)).toBe(true);
      expect(error.message).toContain(`registerOptions.${name} is an Inngest SDK testing option, got boolean true`);
      expect(error.message).toContain("remove it");
    },
  );

  it.each([
    ["unset", {}],
    ["true", { enableUnauthedSync: true }],
  ])("refuses a handler without serveOrigin whose enableUnauthedSync is %s", (_label, registerOptions) => {
    const error = refusal(cloudClient(), { registerOptions });

    expect(MastraInngestError.isInstance(error, ErrorCode.UNSAFE_IN_PRODUCTION)).toBe(true);
    expect(error.message).toContain("forged Host header registers the attacker's URL");
    expect(error.message).toContain("set registerOptions.serveOrigin (or env INNGEST_SERVE_ORIGIN)");
    expect(error.message).toContain("registerOptions.enableUnauthedSync: false");
  });

  it("refuses enableUnauthedSync: true even when INNGEST_ENABLE_UNAUTHED_SYNC says false, as the SDK lets the option win", () => {
    vi.stubEnv("INNGEST_ENABLE_UNAUTHED_SYNC", "false");
    const error = refusal(cloudClient(), { registerOptions: { enableUnauthedSync: true } });
    expect(MastraInngestError.isInstance(error, ErrorCode.UNSAFE_IN_PRODUCTION)).toBe(true);
  });

  it("refuses a blank serveOrigin", () => {
    const error = refusal(cloudClient(), { registerOptions: { serveOrigin: " " } });
    expect(MastraInngestError.isInstance(error, ErrorCode.UNSAFE_IN_PRODUCTION)).toBe(true);
  });

  it("lists every problem in one error", () => {
    const error = refusal(cloudClient({ signingKey: "signkey-prod-" }), {
      registerOptions: { __testingAllowExpiredSignatures: true },
    });

    expect(error.message).toContain("signingKey has no secret");
    expect(error.message).toContain("__testingAllowExpiredSignatures");
    expect(error.message).toContain("serveOrigin is not set");
  });

  it("keeps the cloud-mode checks when allowDevModeInProduction is set", () => {
    const inngest = cloudClient({ signingKey: "signkey-prod-" });
    const { mastra } = appWith(inngest);
    const error = thrown(() =>
      createServe(recordingAdapter().adapter)({
        mastra,
        inngest,
        registerOptions: { serveOrigin },
        allowDevModeInProduction: true,
      }),
    );
    expect(MastraInngestError.isInstance(error, ErrorCode.UNSAFE_IN_PRODUCTION)).toBe(true);
  });

  it("lets allowDevModeInProduction serve a dev-mode client without the cloud-mode checks, which it never runs", () => {
    const inngest = new Inngest({ id: "dev-client", isDev: true, logger: silentLogger });
    expect(served(inngest, { allowDevModeInProduction: true })).toBe(1);
  });
});
