/**
 * A minimal WebAssembly binary writer for the kernels: one exported function
 * per module, assembled from bytes at load, so there is no build step and no
 * binary file in the repository. (WebAssembly core spec, chapter 5.)
 */

/** Value types and the empty block type. */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const VOID = 0x40;

/** The opcodes the kernels use (core spec, section 5.4). */
export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41, // immediate: signed LEB128
  i64Const: 0x42, // immediate: signed LEB128
  i32GeU: 0x4f,
  i64Eqz: 0x50,
  i64LeU: 0x58,
  i64GeU: 0x5a,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32Rotl: 0x77,
  i64Add: 0x7c,
  i64Mul: 0x7e,
  i64RemU: 0x82,
  i64ExtendI32U: 0xad,
} as const;

/** Unsigned LEB128, used for every size, count and index in the binary format. */
export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128 for small constants (|value| < 2^31), the immediate of i32.const and i64.const. */
export function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A vector: its element count, then the elements. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A section: its id, its byte size, then its contents. */
function section(id: number, contents: number[]): number[] {
  return [id, ...uleb(contents.length), ...contents];
}

/** One exported function: its signature, its extra locals (groups of [count, type]) and its instructions. */
export interface FunctionSpec {
  name: string;
  params: number[];
  results: number[];
  locals: [count: number, type: number][];
  body: number[];
}

/**
 * The part of the WebAssembly global used here. Node has it, but this project's libs (ES2023, no DOM) and
 * @types/node 20 do not declare it; this declaration types the global without emitting anything.
 */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};

/** Assembles and instantiates a module of one function; small enough to compile synchronously at load. */
export function compileFunction(spec: FunctionSpec): unknown {
  const code = [...vec(spec.locals.map(([count, type]) => [...uleb(count), type])), ...spec.body, OP.end];
  const name = [...spec.name].map((c) => c.charCodeAt(0));
  const bytes = new Uint8Array([
    // magic "\0asm" and version 1
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    // type section (1): one function type (0x60) with its params and results
    ...section(1, vec([[0x60, ...vec(spec.params.map((t) => [t])), ...vec(spec.results.map((t) => [t]))]])),
    // function section (3): function 0 has type 0
    ...section(3, vec([uleb(0)])),
    // export section (7): the function (kind 0) number 0, by name
    ...section(7, vec([[...uleb(name.length), ...name, 0x00, ...uleb(0)]])),
    // code section (10): one body = byte size, local declarations, instructions
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ]);
  return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports[spec.name];
}
