/**
 * Session frames by size. A frame (SessionRequest, SessionResponse) is one
 * field, `repeated … messages = 1`, so its bytes are each message's bytes
 * behind a tag and a length: messages are encoded once, packed into frames
 * that stay within a byte budget, and the frames are written as they are.
 * Splitting by message count alone let a few large results make a frame over
 * the message size limit, which ends the whole session.
 */

/** Bytes a frame aims to stay within (a message larger than it travels alone). */
export const FRAME_BYTES = 1024 * 1024;

/** Most messages in one frame. */
export const FRAME_MESSAGES = 512;

/** Bytes a message takes inside a frame: tag, length, body. */
export function framedSize(bytes: number): number {
  return 1 + varintSize(bytes) + bytes;
}

/** Packs encoded messages into frame bodies of at most `FRAME_BYTES` (or one message) and `FRAME_MESSAGES`. */
export function packFrames(messages: readonly Uint8Array[]): Buffer[] {
  const frames: Buffer[] = [];
  let parts: Uint8Array[] = [];
  let size = 0;
  let count = 0;
  const close = () => {
    if (count > 0) frames.push(Buffer.concat(parts, size));
    parts = [];
    size = 0;
    count = 0;
  };
  for (const message of messages) {
    const framed = framedSize(message.length);
    if (count > 0 && (size + framed > FRAME_BYTES || count >= FRAME_MESSAGES)) close();
    const head = Buffer.alloc(1 + varintSize(message.length));
    head[0] = 0x0a; // field 1, length-delimited
    writeVarint(head, 1, message.length);
    parts.push(head, message);
    size += framed;
    count++;
  }
  close();
  return frames;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buffer: Buffer, offset: number, n: number): void {
  let i = offset;
  while (n >= 0x80) {
    buffer[i++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buffer[i] = n;
}
