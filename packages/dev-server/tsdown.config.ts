import { packageBuild } from "../../tsdown.config.ts";

export default packageBuild({ entry: ["src/index.ts", "src/bin.ts"] });
