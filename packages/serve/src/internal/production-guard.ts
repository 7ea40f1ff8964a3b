import { describeValue, ErrorCode, MastraInngestError } from "@mastra/inngest-core";

const packageName = "@mastra/inngest-serve";

// The prefix the SDK strips before it uses the rest of a signing key as the HMAC secret.
const signingKeyPrefixPattern = /^signkey-\w+-/;

// The SDK only reads the options of this prefix in tests (`__testingAllowExpiredSignatures`
// accepts signatures of any age); a new one would weaken checks as silently.
const testingOptionPrefix = "__testing";

/** What the guard looks at. */
export interface ServeSafetyInput {
  /** The Inngest client the handler serves with. */
  inngest: unknown;
  /** The options handed to the SDK's serve adapter. */
  registerOptions: Record<string, unknown> | undefined;
  /** The process environment. */
  environment: Record<string, string | undefined>;
  /** Whether the caller accepts a handler that does not verify signatures (dev mode) in production. */
  allowDevModeInProduction: boolean;
}

/**
 * Whether `NODE_ENV` names production: `production` or `prod`, in any case, around any spaces.
 */
export function isProductionEnvironment(nodeEnvironment: string | undefined): boolean {
  const normalized = nodeEnvironment?.trim().toLowerCase();
  return normalized === "production" || normalized === "prod";
}

/**
 * In production (see {@link isProductionEnvironment}), throws:
 *
 * - `DEV_MODE_IN_PRODUCTION` when the handler would accept calls without verifying their signature:
 *   the client is in dev mode (`isDev: true`, `INNGEST_DEV`), or signature validation is switched
 *   off. `allowDevModeInProduction` lets such a handler through, and the checks below with it,
 *   since they only matter to a handler that verifies signatures.
 * - `UNSAFE_IN_PRODUCTION` when a handler in cloud mode would verify with a signing key (or its
 *   fallback) that has no secret, was given an SDK testing option (`__testing...`), or would let an
 *   unsigned sync register the origin its `Host` header names (no `serveOrigin`, no
 *   `enableUnauthedSync: false`). Every problem found is listed, each with its fix.
 */
export function assertSafeForProduction(input: ServeSafetyInput): void {
  const nodeEnvironment = input.environment.NODE_ENV;
  if (!isProductionEnvironment(nodeEnvironment)) {
    return;
  }
  const shownEnvironment = describeValue(nodeEnvironment);
  const reason = unverifiedReason(input);
  if (reason !== undefined) {
    if (input.allowDevModeInProduction) {
      return;
    }
    throw new MastraInngestError(
      `[${packageName}] refusing to create a serve handler in dev mode while NODE_ENV is ${shownEnvironment}: ${reason}. In dev mode the Inngest SDK does not verify request signatures, so anyone who can reach the endpoint could run your functions with any input. Use a client in cloud mode (no isDev: true, no INNGEST_DEV) with INNGEST_SIGNING_KEY set, or pass allowDevModeInProduction: true if this is deliberate, such as a production build run against a local dev server.`,
      { code: ErrorCode.DEV_MODE_IN_PRODUCTION },
    );
  }
  const problems = [
    ...signingKeyProblems(input),
    ...testingOptionProblems(input.registerOptions),
    ...syncOriginProblems(input),
  ];
  if (problems.length === 0) {
    return;
  }
  throw new MastraInngestError(
    `[${packageName}] refusing to create a serve handler while NODE_ENV is ${shownEnvironment}: ${problems.join("; ")}.`,
    { code: ErrorCode.UNSAFE_IN_PRODUCTION },
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

// Reads the keys as the SDK does (the client option wins over the environment variable), so only
// the key that will verify calls is judged.
function signingKeyProblems(input: ServeSafetyInput): string[] {
  const options = (input.inngest as { options?: { signingKey?: unknown; signingKeyFallback?: unknown } }).options;
  const keys = [
    effectiveKey(options?.signingKey, "signingKey", input.environment, "INNGEST_SIGNING_KEY"),
    effectiveKey(options?.signingKeyFallback, "signingKeyFallback", input.environment, "INNGEST_SIGNING_KEY_FALLBACK"),
  ];
  const problems: string[] = [];
  for (const key of keys) {
    if (key === undefined) {
      continue;
    }
    const prefix = signingKeyPrefixPattern.exec(key.value)?.[0] ?? "";
    // A key without a secret signs with an empty (or blank) HMAC key that anyone can use.
    if (key.value.slice(prefix.length).trim() === "") {
      problems.push(
        `${key.source} has no secret after its "signkey-<env>-" prefix, got ${describeValue(prefix || key.value.trim())}, so anyone could sign calls; set it to the full signing key from the Inngest dashboard (client option ${key.option} or env ${key.variable})`,
      );
    }
  }
  return problems;
}

interface ConfiguredKey {
  value: string;
  source: string;
  option: string;
  variable: string;
}

function effectiveKey(
  optionValue: unknown,
  option: string,
  environment: Record<string, string | undefined>,
  variable: string,
): ConfiguredKey | undefined {
  if (typeof optionValue === "string" && optionValue !== "") {
    return { value: optionValue, source: `the client option ${option}`, option, variable };
  }
  const environmentValue = environment[variable];
  if (environmentValue !== undefined && environmentValue !== "") {
    return { value: environmentValue, source: variable, option, variable };
  }
  return undefined;
}

function testingOptionProblems(registerOptions: Record<string, unknown> | undefined): string[] {
  return Object.keys(registerOptions ?? {})
    .filter((name) => name.startsWith(testingOptionPrefix))
    .map((name) => {
      const effect =
        name === "__testingAllowExpiredSignatures"
          ? "it accepts signatures of any age, so a captured call can be replayed at any time"
          : "the SDK reads such options only in its own tests, where they relax its checks";
      return `registerOptions.${name} is an Inngest SDK testing option, got ${describeValue(registerOptions?.[name])} (${effect}); remove it`;
    });
}

// Without a fixed origin, the SDK registers the URL of the request: an unsigned sync PUT with a
// forged Host header would point Inngest at the attacker's server, which then receives every call.
function syncOriginProblems(input: ServeSafetyInput): string[] {
  const registerOptions = input.registerOptions ?? {};
  const { environment } = input;
  const originSet =
    isNonEmptyString(registerOptions.serveOrigin) ||
    isNonEmptyString(environment.INNGEST_SERVE_ORIGIN) ||
    isNonEmptyString(environment.INNGEST_SERVE_HOST);
  if (originSet) {
    return [];
  }
  // As in the SDK, the register option wins over the environment variable.
  const unauthedSync = registerOptions.enableUnauthedSync ?? parseFlag(environment.INNGEST_ENABLE_UNAUTHED_SYNC);
  if (unauthedSync === false) {
    return [];
  }
  return [
    `serveOrigin is not set and unsigned syncs are accepted (enableUnauthedSync is not false), so an unsigned sync PUT with a forged Host header registers the attacker's URL; set registerOptions.serveOrigin (or env INNGEST_SERVE_ORIGIN) to the app's public origin, or pass registerOptions.enableUnauthedSync: false (or env INNGEST_ENABLE_UNAUTHED_SYNC=false) so syncs must be signed`,
  ];
}

function isNonEmptyString(value: unknown): boolean {
  return typeof value === "string" && value.trim() !== "";
}

// The SDK's reading of a boolean environment variable: "true"/"1" and "false"/"0"; anything else is unset.
function parseFlag(value: string | undefined): boolean | undefined {
  const normalized = value?.trim().toLowerCase();
  if (normalized === "true" || normalized === "1") {
    return true;
  }
  if (normalized === "false" || normalized === "0") {
    return false;
  }
  return undefined;
}

// INNGEST_DEV is "1", "true", or a dev server URL when it means dev mode; "0" and "false" mean cloud.
function isTruthyFlag(value: string | undefined): boolean {
  if (value === undefined) {
    return false;
  }
  const normalized = value.trim().toLowerCase();
  return normalized !== "" && normalized !== "0" && normalized !== "false";
}
