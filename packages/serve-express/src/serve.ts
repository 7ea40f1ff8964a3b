import { createServe, type MastraServeOptions } from "@mastra/inngest-serve";
import { serve as inngestServe } from "inngest/express";

/**
 * Serves the Inngest functions of a Mastra instance (its durable agents, its Inngest workflows and
 * `functions`) as Express middleware. Mount `express.json()` before it: the SDK reads `req.body`.
 *
 * @example
 * import { serve } from "@mastra/inngest-serve-express";
 *
 * app.use(express.json());
 * app.use("/api/inngest", serve({ mastra, inngest }));
 */
export const serve: (options: MastraServeOptions) => ReturnType<typeof inngestServe> = createServe(inngestServe);
