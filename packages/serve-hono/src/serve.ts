import { createServe, type MastraServeOptions } from "@mastra/inngest-serve";
import { serve as inngestServe } from "inngest/hono";

/**
 * Serves the Inngest functions of a Mastra instance (its durable agents, its Inngest workflows and
 * `functions`) as a Hono handler, `(c) => Promise<Response>`. The default `serve` of
 * `@mastra/inngest`.
 *
 * @example
 * import { serve } from "@mastra/inngest-serve-hono";
 *
 * app.on(["GET", "POST", "PUT"], "/api/inngest", (c) => serve({ mastra, inngest })(c));
 */
export const serve: (options: MastraServeOptions) => ReturnType<typeof inngestServe> = createServe(inngestServe);
