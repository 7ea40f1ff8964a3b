import type { Mastra } from "@mastra/core/mastra";
import { ErrorCode, invalidOption, MastraInngestError } from "@mastra/inngest-core";
import type { Inngest, InngestFunction, RegisterOptions, ServeHandlerOptions } from "inngest";
import { collectInngestFunctions } from "./collect-inngest-functions.ts";
import { DEFAULT_MAX_BODY_BYTES, withExpressJsonBody } from "./internal/express-json-body.ts";
import { assertSafeForProduction } from "./internal/production-guard.ts";

const packageName = "@mastra/inngest-serve";

/** Options of the serve function that {@link createServe} returns. */
export interface MastraServeOptions {
  /** The Mastra instance whose durable agents and Inngest workflows are served. */
  mastra: Mastra;
  /** The Inngest client: its id names the app, its mode and signing keys decide how calls are checked. */
  inngest: Inngest.Like;
  /**
   * More Inngest functions to serve beside the ones found on `mastra`.
   * @default []
   */
  functions?: InngestFunction.Like[];
  /**
   * Passed to the Inngest serve adapter: `servePath`, `serveOrigin`, `streaming`,
   * `enableUnauthedSync`. In production, set `serveOrigin` (or `INNGEST_SERVE_ORIGIN`) or
   * `enableUnauthedSync: false`.
   * @default {}
   */
  registerOptions?: RegisterOptions;
  /**
   * Creates the handler even when the client is in dev mode (`isDev: true` or `INNGEST_DEV`), or
   * `skipSignatureValidation` is set, while `NODE_ENV` is `production` or `prod`. Such a handler
   * accepts unsigned calls, so leave this off unless the endpoint is unreachable from outside (for
   * example a production build run against a local dev server). It does not relax the checks of a
   * handler in cloud mode: a signing key with a secret, no `__testing` option, and `serveOrigin` or
   * `enableUnauthedSync: false`.
   * @default false
   */
  allowDevModeInProduction?: boolean;
  /**
   * Largest request body read when no body parser ran before the handler (Express without
   * `express.json()`), in bytes. A larger body is answered with 413 before more of it is read.
   * Bodies a framework or a parser already read are not affected.
   * @default 33554432 (32 MiB, the most state Inngest keeps for one run)
   */
  maxBodyBytes?: number;
}

/**
 * An Inngest serve adapter (`serve` from `inngest/express`, `inngest/fastify`, `inngest/next`,
 * `inngest/koa`, `inngest/hono`, ...): it takes the client and functions and returns that
 * framework's handler.
 */
export type InngestServeAdapter<THandler> = (options: ServeHandlerOptions) => THandler;

/**
 * Turns an Inngest serve adapter into a serve function for Mastra: given `{ mastra, inngest }`, it
 * collects the functions of every durable agent and Inngest workflow registered on `mastra` (see
 * {@link collectInngestFunctions}), adds `functions`, and returns the adapter's handler. Functions
 * are collected when the serve function is called, so register agents before. With Express, no
 * `express.json()` is needed: a JSON body that no parser read is read (up to `maxBodyBytes`) and set
 * as `req.body`, which the SDK reads. With `NODE_ENV` set to `production` (or `prod`, in any case)
 * it throws `DEV_MODE_IN_PRODUCTION` for a client in dev mode, unless `allowDevModeInProduction` is
 * set; in cloud mode the SDK verifies every call's signature with the client's signing key, or its
 * fallback key during a rotation, and it throws `UNSAFE_IN_PRODUCTION` when a key has no secret,
 * when `registerOptions` holds an SDK testing option (`__testing...`), or when neither `serveOrigin`
 * (or `INNGEST_SERVE_ORIGIN`) nor `enableUnauthedSync: false` keeps an unsigned sync from
 * registering the URL its `Host` header names.
 *
 * @example
 * import { createServe } from "@mastra/inngest-serve";
 * import { serve } from "inngest/express";
 *
 * const serveExpress = createServe(serve);
 * app.use("/api/inngest", serveExpress({ mastra, inngest }));
 */
export function createServe<THandler>(
  adapter: InngestServeAdapter<THandler>,
): (options: MastraServeOptions) => THandler {
  if (typeof adapter !== "function") {
    throw new MastraInngestError(
      `[${packageName}] createServe needs an Inngest serve adapter, such as serve from "inngest/express"`,
      { code: ErrorCode.INVALID_OPTION },
    );
  }
  return (options: MastraServeOptions): THandler => {
    if (options === undefined || options === null || typeof options !== "object") {
      throw new MastraInngestError(`[${packageName}] serve needs { mastra, inngest }`, {
        code: ErrorCode.INVALID_OPTION,
      });
    }
    const { mastra, inngest, registerOptions } = options;
    if (inngest === undefined || inngest === null || typeof inngest !== "object") {
      throw new MastraInngestError(`[${packageName}] inngest must be an Inngest client`, {
        code: ErrorCode.INVALID_OPTION,
      });
    }
    assertSafeForProduction({
      inngest,
      registerOptions: registerOptions as Record<string, unknown> | undefined,
      environment: globalThis.process?.env ?? {},
      allowDevModeInProduction: options.allowDevModeInProduction === true,
    });
    const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
      throw invalidOption(packageName, "maxBodyBytes", "a positive integer", maxBodyBytes);
    }
    const functions = collectInngestFunctions({ mastra, functions: options.functions ?? [] });
    return withExpressJsonBody(adapter({ ...registerOptions, client: inngest, functions }), maxBodyBytes);
  };
}
