import { createHmac, timingSafeEqual } from "node:crypto";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import type { RunTokenScope } from "../inngest-agent-options.ts";
import { packageName } from "./stream-input.ts";

/** The scopes a run token can carry. */
export const RUN_TOKEN_SCOPES: readonly RunTokenScope[] = Object.freeze(["observe", "resume", "abort"] as const);

/** The environment variable that holds the run token secret when the agent option does not. */
export const RUN_TOKEN_SECRET_VARIABLE = "MASTRA_INNGEST_RUN_TOKEN_SECRET";

/** The shortest secret accepted, in bytes: HMAC-SHA256's block of strength. */
const minimumSecretBytes = 32;
/** The longest lifetime of a token, in seconds: 30 days. */
const maximumLifetimeSeconds = 30 * 24 * 3600;

/** What a token says, signed. */
interface RunTokenClaims {
  /** Layout version. */
  v: 1;
  run: string;
  agent: string;
  /** The claim of the run id the token was made for: a later run with the same id is another run. */
  claim: string;
  scopes: RunTokenScope[];
  /** Expiry, in seconds since the epoch. */
  exp: number;
  /** The resource the token was issued for, for the record. */
  sub?: string;
}

/** The secret of `option`, else of the environment; throws `INVALID_OPTION` when it is too short. */
export function resolveRunTokenSecret(option: string | undefined): string | undefined {
  const secret = option ?? process.env[RUN_TOKEN_SECRET_VARIABLE];
  if (secret !== undefined && Buffer.byteLength(secret, "utf8") < minimumSecretBytes) {
    throw new MastraInngestError(
      `[${packageName}] runTokenSecret (or ${RUN_TOKEN_SECRET_VARIABLE}) must be at least ${minimumSecretBytes} bytes, got ${Buffer.byteLength(secret, "utf8")}`,
      { code: ErrorCode.INVALID_OPTION },
    );
  }
  return secret;
}

/** Signs a token for one run of one agent: `<claims>.<signature>`, both base64url. */
export function signRunToken(
  secret: string,
  claims: {
    runId: string;
    agentId: string;
    claimId: string;
    scopes: readonly RunTokenScope[];
    expiresInSeconds: number;
    resourceId?: string;
  },
  now: number = Date.now(),
): string {
  const unknownScope = claims.scopes.find((scope) => !RUN_TOKEN_SCOPES.includes(scope));
  if (claims.scopes.length === 0 || unknownScope !== undefined) {
    throw new MastraInngestError(
      `[${packageName}] scopes must be a non-empty list of ${RUN_TOKEN_SCOPES.join(", ")}, got ${JSON.stringify(claims.scopes)}`,
      { code: ErrorCode.INVALID_OPTION },
    );
  }
  const lifetime = claims.expiresInSeconds;
  if (!Number.isSafeInteger(lifetime) || lifetime <= 0 || lifetime > maximumLifetimeSeconds) {
    throw new MastraInngestError(
      `[${packageName}] expiresIn must be a whole number of seconds from 1 to ${maximumLifetimeSeconds}, got ${String(lifetime)}`,
      { code: ErrorCode.INVALID_OPTION },
    );
  }
  const body: RunTokenClaims = {
    v: 1,
    run: claims.runId,
    agent: claims.agentId,
    claim: claims.claimId,
    scopes: [...new Set(claims.scopes)],
    exp: Math.floor(now / 1000) + lifetime,
    ...(claims.resourceId === undefined ? {} : { sub: claims.resourceId }),
  };
  const encoded = Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
  return `${encoded}.${signature(secret, encoded)}`;
}

/**
 * Whether `token` is a valid token of `secret` for this run, agent and scope, not expired. Every
 * other case (malformed, tampered, another run, agent or scope, expired, no secret) is `false`.
 */
export function verifyRunToken(
  secret: string | undefined,
  token: string,
  expected: { runId: string; agentId: string; claimId: string; scope: RunTokenScope },
  now: number = Date.now(),
): boolean {
  if (secret === undefined || typeof token !== "string") {
    return false;
  }
  const [encoded, given, extra] = token.split(".");
  if (encoded === undefined || given === undefined || extra !== undefined) {
    return false;
  }
  const wanted = Buffer.from(signature(secret, encoded), "utf8");
  const received = Buffer.from(given, "utf8");
  // Constant time, so the comparison says nothing about how much of a forged signature was right.
  if (wanted.length !== received.length || !timingSafeEqual(wanted, received)) {
    return false;
  }
  let claims: Partial<RunTokenClaims>;
  try {
    claims = JSON.parse(Buffer.from(encoded, "base64url").toString("utf8")) as Partial<RunTokenClaims>;
  } catch {
    return false;
  }
  return (
    claims.v === 1 &&
    claims.run === expected.runId &&
    claims.agent === expected.agentId &&
    claims.claim === expected.claimId &&
    Array.isArray(claims.scopes) &&
    claims.scopes.includes(expected.scope) &&
    typeof claims.exp === "number" &&
    claims.exp * 1000 > now
  );
}

function signature(secret: string, encoded: string): string {
  return createHmac("sha256", secret).update(`mastra-inngest-run-token.${encoded}`).digest("base64url");
}
