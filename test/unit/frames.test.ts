import assert from "node:assert/strict";
import { test } from "node:test";
import { FRAME_BYTES, FRAME_MESSAGES, packFrames } from "../../src/frames.js";
import { ServerMessage, SessionResponse } from "../../src/gen/ferry/v1/objects.js";

const encode = (m: ServerMessage) => ServerMessage.encode(m).finish();

test("packed frames decode to the same messages, in order", () => {
  const messages: ServerMessage[] = Array.from({ length: 1300 }, (_, i) => ({
    result: { id: BigInt(i + 1), value: { stringValue: "x".repeat(i % 300) } },
  }));
  const frames = packFrames(messages.map(encode));
  assert.equal(frames.length, Math.ceil(1300 / FRAME_MESSAGES));
  const decoded = frames.flatMap((f) => SessionResponse.decode(f).messages);
  assert.deepEqual(
    decoded.map((m) => m.result?.id),
    messages.map((m) => m.result?.id),
  );
  assert.equal(decoded[299]?.result?.value?.stringValue?.length, 299);
});

test("frames stay within the byte budget; a larger message travels alone", () => {
  const big = (id: number, bytes: number) =>
    encode({ result: { id: BigInt(id), value: { stringValue: "y".repeat(bytes) } } });
  const frames = packFrames([big(1, 600_000), big(2, 600_000), big(3, 2_500_000), big(4, 10), big(5, 10)]);
  assert.deepEqual(
    frames.map((f) => SessionResponse.decode(f).messages.map((m) => Number(m.result?.id))),
    [[1], [2], [3], [4, 5]],
  );
  for (const f of frames)
    if (SessionResponse.decode(f).messages.length > 1) assert.ok(f.length <= FRAME_BYTES);
});
