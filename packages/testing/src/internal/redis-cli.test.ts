import { describe, expect, it } from "vitest";
import { parseClusterNodes } from "./redis-cli.ts";

describe("parseClusterNodes", () => {
  it("reads each node's address, role, master and slots, leaving out slots in migration", () => {
    const text = [
      "a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 [5461->-b2]",
      "b2 127.0.0.1:7001@17001 master - 0 1700000000000 2 connected 5461-10922 12000",
      "c3 127.0.0.1:7002@17002 slave a1 0 1700000000000 1 connected",
      "d4 127.0.0.1:7003@17003 master,fail - 1700000000000 1700000000000 3 disconnected",
    ].join("\n");
    expect(parseClusterNodes(text)).toEqual([
      {
        id: "a1",
        host: "127.0.0.1",
        port: 7000,
        master: true,
        failing: false,
        masterId: undefined,
        slots: [[0, 5460]],
      },
      {
        id: "b2",
        host: "127.0.0.1",
        port: 7001,
        master: true,
        failing: false,
        masterId: undefined,
        slots: [
          [5461, 10922],
          [12000, 12000],
        ],
      },
      { id: "c3", host: "127.0.0.1", port: 7002, master: false, failing: false, masterId: "a1", slots: [] },
      { id: "d4", host: "127.0.0.1", port: 7003, master: true, failing: true, masterId: undefined, slots: [] },
    ]);
  });
});
