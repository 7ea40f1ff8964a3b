import { packageBuild } from "../../tsdown.config.ts";

export default packageBuild({
  entry: ["src/index.ts", "src/cache.ts", "src/pubsub.ts", "src/model.ts", "src/serve.ts", "src/helpers.ts"],
});
