import { app } from "./app.ts";

const port = Number(process.env.PORT ?? 3000);

app.listen(port, () => {
  console.log(`Express app on http://localhost:${port}`);
  console.log(`  Inngest endpoint  http://localhost:${port}/api/inngest`);
  console.log(
    `  chat              curl -X POST http://localhost:${port}/chat -H 'content-type: application/json' -d '{"message":"Hi"}'`,
  );
});
