import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { parseEventStream } from "../src/index.js";

function body(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

describe("parseEventStream", () => {
  it("joins data lines, keeps ids and types, skips comments, across chunk and CRLF splits", async () => {
    const stream = body(
      ": keep-alive\n\nid: 7\nevent: JOB_QUEUED\nda",
      'ta: {"a":\r\ndata: 1}\r\n\r\nid: 8\nevent: JOB_SUCCEEDED\ndata: {}\n\n',
      "data: never ended",
    );
    const events = [];
    for await (const event of parseEventStream(stream)) events.push(event);
    assert.deepEqual(events, [
      { id: "7", event: "JOB_QUEUED", data: '{"a":\n1}' },
      { id: "8", event: "JOB_SUCCEEDED", data: "{}" },
    ]);
  });
});
