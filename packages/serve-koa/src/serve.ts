import { createServe, type MastraServeOptions } from "@mastra/inngest-serve";
import { serve as inngestServe } from "inngest/koa";

/**
 * Serves the Inngest functions of a Mastra instance (its durable agents, its Inngest workflows and
 * `functions`) as a Koa handler, `(ctx) => Promise<void>`. Use a JSON body parser before it: the
 * SDK reads `ctx.request.body`.
 *
 * @example
 * import { bodyParser } from "@koa/bodyparser";
 * import { serve } from "@mastra/inngest-serve-koa";
 *
 * const handler = serve({ mastra, inngest });
 * app.use(bodyParser());
 * app.use((ctx, next) => (ctx.path === "/api/inngest" ? handler(ctx) : next()));
 */
export const serve: (options: MastraServeOptions) => ReturnType<typeof inngestServe> = createServe(inngestServe);
