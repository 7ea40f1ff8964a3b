export { type CollectInngestFunctionsOptions, collectInngestFunctions } from "./collect-inngest-functions.ts";
export { createServe, type InngestServeAdapter, type MastraServeOptions } from "./create-serve.ts";
