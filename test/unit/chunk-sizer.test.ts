import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CHUNKS_PER_LANE,
  ChunkSizer,
  MAX_CHUNK_ITEMS,
  SIZED_CHUNKS_PER_LANE,
} from "../../client/chunk-sizer.js";

test("tiny items grow chunks up to the limit, a few answers at a time", () => {
  const sizer = new ChunkSizer();
  assert.equal(sizer.size, 1);
  const sizes: number[] = [];
  for (let i = 0; i < 30; i++) {
    // Each item costs 1 µs plus a 0.2 ms round trip per chunk.
    sizer.observe(sizer.size, 0.2 + sizer.size * 0.001);
    sizes.push(sizer.size);
  }
  assert.equal(sizes[0], 4, "grows at most 4x per answer");
  assert.equal(sizer.size, MAX_CHUNK_ITEMS);
});

test("one slow item brings chunks back to one item at once", () => {
  const sizer = new ChunkSizer();
  for (let i = 0; i < 10; i++) sizer.observe(sizer.size, 0.3);
  assert.ok(sizer.size > 100);
  sizer.observe(sizer.size, 80);
  sizer.observe(1, 50);
  assert.equal(sizer.size, 1);
});

test("async items that run side by side grow chunks at each answer; serial ones of the same cost do not", () => {
  const overlapped = new ChunkSizer();
  const serial = new ChunkSizer();
  for (let i = 0; i < 8; i++) {
    // 5 ms items: a node runs a chunk's async items at once, so a chunk takes 5 ms and a little per item...
    overlapped.observe(overlapped.size, 5 + 0.002 * overlapped.size);
    // ...while CPU-bound ones take 5 ms each.
    serial.observe(serial.size, 5 * serial.size);
  }
  assert.ok(overlapped.size >= 64, `side by side: ${overlapped.size} items a chunk after 8 answers`);
  assert.ok(serial.size <= 2, `one after another: ${serial.size}`);
});

test("the slope of time against items sizes chunks: a chunk's round trip and each item's wait do not count", () => {
  const sizer = new ChunkSizer();
  // Answers of several sizes: 8 ms of round trip and wait, plus 0.05 ms per item.
  for (const items of [16, 32, 64, 128, 64, 128]) sizer.observe(items, 8 + 0.05 * items);
  // 10 ms at 0.05 ms an item: 200, within 4x the last chunk.
  assert.equal(sizer.size, 200);
});

test("heavy items stay one per call", () => {
  const sizer = new ChunkSizer();
  for (let i = 0; i < 20; i++) sizer.observe(1, 60);
  assert.equal(sizer.size, 1);
});

test("a map of known length starts as big as its lanes allow, and stays small enough that each gets several", () => {
  const first = new ChunkSizer();
  assert.equal(first.sizeFor(CHUNKS_PER_LANE * 2 + 1, 2), 1, "too few items for two per call: one per call");
  assert.equal(first.sizeFor(CHUNKS_PER_LANE * 2 * 4, 2), 4, "from the first call, before any answer");
  assert.equal(first.sizeFor(1_000_000, 4), 512, "the first chunks are at most 512 items");
  assert.equal(first.sizeFor(undefined, 2), 1, "an input of unknown length starts at one item");
  const sizer = new ChunkSizer();
  // Quick first answers (the book's composites) would bundle the long checks that follow.
  for (let i = 0; i < 3; i++) sizer.observe(sizer.size, 0.5);
  assert.ok(sizer.size >= 16);
  assert.equal(sizer.sizeFor(SIZED_CHUNKS_PER_LANE * 2 * 4, 2), 4, "once answered, a few chunks per lane");
  assert.equal(sizer.sizeFor(undefined, 2), sizer.size, "an input of unknown length is not capped");
  assert.equal(sizer.sizeFor(1_000_000, 2), sizer.size);
  assert.equal(new ChunkSizer(8).sizeFor(20, 2), 8, "a fixed size is kept");
});

test("a fixed size never changes, and a bad one is refused", () => {
  const sizer = new ChunkSizer(16);
  sizer.observe(16, 0.1);
  sizer.observe(16, 500);
  assert.equal(sizer.size, 16);
  for (const bad of [0, -1, 1.5, MAX_CHUNK_ITEMS + 1, Number.NaN]) {
    assert.throws(() => new ChunkSizer(bad), /chunkSize must be an integer from 1 to 2048/);
  }
});
