import { connect } from "node:net";

/**
 * Sends an inline `PING` to a Redis server and resolves with whether it is ready to serve. A
 * server that answers with an error other than `LOADING` (for example `NOAUTH` when a password is
 * set) is ready; one that refuses, times out or is still loading its data is not.
 */
export async function isRedisReady(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    let reply = "";
    const finish = (ready: boolean): void => {
      socket.destroy();
      resolve(ready);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("error", () => finish(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => {
      reply += data.toString("utf8");
      if (reply.includes("\r\n")) {
        finish(reply.startsWith("+") || (reply.startsWith("-") && !reply.startsWith("-LOADING")));
      }
    });
  });
}
