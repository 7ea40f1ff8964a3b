import { describeValue, ErrorCode, MastraInngestError } from "@mastra/inngest-core";

const packageName = "@mastra/inngest-serve";

/** What the guard looks at. */
export interface ServeSafetyInput {
  /** The Inngest client the handler serves with. */
  inngest: unknown;
  /** The options handed to the SDK's serve adapter. */
  registerOptions: Record<string, unknown> | undefined;
  /** The process environment. */
  environment: Record<string, string | undefined>;
}

/**
 * Throws `DEV_MODE_IN_PRODUCTION` when `NODE_ENV` is `production` and the handler would accept
 * calls without verifying their signature: the client is in dev mode (`isDev: true`,
 * `INNGEST_DEV`), or signature validation is switched off.
 */
export function assertSafeForProduction(input: ServeSafetyInput): void {
  if (input.environment.NODE_ENV !== "production") {
    return;
  }
  const reason = unverifiedReason(input);
  if (reason === undefined) {
    return;
  }
  throw new MastraInngestError(
    `[${packageName}] refusing to create a serve handler in dev mode while NODE_ENV is "production": ${reason}. In dev mode the Inngest SDK does not verify request signatures, so anyone who can reach the endpoint could run your functions with any input. Use a client in cloud mode (no isDev: true, no INNGEST_DEV) with INNGEST_SIGNING_KEY set, or pass allowDevModeInProduction: true if this is deliberate, such as a production build run against a local dev server.`,
    { code: ErrorCode.DEV_MODE_IN_PRODUCTION },
  );
}

function unverifiedReason(input: ServeSafetyInput): string | undefined {
  if (input.registerOptions?.skipSignatureValidation === true) {
    return "registerOptions.skipSignatureValidation is true";
  }
  const client = input.inngest as { mode?: unknown; options?: { isDev?: unknown } };
  const mode = client.mode ?? (isTruthyFlag(input.environment.INNGEST_DEV) ? "dev" : "cloud");
  if (mode !== "dev") {
    return undefined;
  }
  if (client.options?.isDev === true) {
    return "the Inngest client was created with isDev: true";
  }
  const flag = input.environment.INNGEST_DEV;
  if (flag !== undefined && flag !== "") {
    return `INNGEST_DEV is set (to ${describeValue(flag)})`;
  }
  return "the Inngest client is in dev mode";
}

// INNGEST_DEV is "1", "true", or a dev server URL when it means dev mode; "0" and "false" mean cloud.
function isTruthyFlag(value: string | undefined): boolean {
  if (value === undefined) {
    return false;
  }
  const normalized = value.trim().toLowerCase();
  return normalized !== "" && normalized !== "0" && normalized !== "false";
}
