/** @type {import("next").NextConfig} */
const nextConfig = {
  // Mastra runs on Node.js as installed, not bundled into the route handlers.
  serverExternalPackages: ["@mastra/*"],
};

// biome-ignore lint/style/noDefaultExport: Next.js reads its configuration from the default export
export default nextConfig;
