import { packageBuild } from "../../tsdown.config.ts";

// Re-exports only: every sibling stays an external dependency, never inlined (one copy of each
// contract, so instanceof checks hold).
export default packageBuild({
  entry: [
    "src/index.ts",
    "src/redis.ts",
    "src/hono.ts",
    "src/express.ts",
    "src/fastify.ts",
    "src/next.ts",
    "src/koa.ts",
  ],
  unbundle: true,
});
