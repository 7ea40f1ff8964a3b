import { createServe, type MastraServeOptions } from "@mastra/inngest-serve";
import { serve as inngestServe } from "inngest/express";

/**
 * Serves the Inngest functions of a Mastra instance (its durable agents, its Inngest workflows and
 * `functions`) as Express middleware. No `express.json()` is needed: when no parser set `req.body`,
 * which the SDK reads, the JSON body is read first, up to `maxBodyBytes`.
 *
 * @example
 * import { serve } from "@mastra/inngest-serve-express";
 *
 * app.use("/api/inngest", serve({ mastra, inngest }));
 */
export const serve: (options: MastraServeOptions) => ReturnType<typeof inngestServe> = createServe(inngestServe);
