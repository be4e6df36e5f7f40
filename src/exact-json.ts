/**
 * JSON.parse that keeps integers exact: an integer literal beyond 2^53 (which
 * JSON.parse would round to the nearest double) becomes a bigint. Everything
 * else parses as JSON.parse parses it, errors included.
 */
export function parseJsonExact(text: string): unknown {
  const wide = new Map<string, bigint>();
  const nonce = `\ufdd0ferry-int-${Math.random().toString(36).slice(2)}:`;
  let out = "";
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip a string, escapes and all.
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      continue;
    }
    if (c !== 0x2d /* - */ && (c < 0x30 || c > 0x39)) continue;
    let end = i + 1;
    while (end < text.length && /[0-9.eE+-]/.test(text.charAt(end))) end++;
    const literal = text.slice(i, end);
    if (/^-?(0|[1-9]\d*)$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
      const key = `${nonce}${wide.size}`;
      wide.set(key, BigInt(literal));
      out += `${text.slice(last, i)}"${key}"`;
      last = end;
    }
    i = end - 1;
  }
  if (wide.size === 0) return JSON.parse(text);
  return JSON.parse(out + text.slice(last), (_key, value: unknown) =>
    typeof value === "string" && value.startsWith(nonce) ? (wide.get(value) ?? value) : value,
  );
}

/** Whether text is meant as JSON: an object, an array or a string literal (after blanks). */
export function looksLikeJson(text: string): boolean {
  return /^\s*[[{"]/.test(text);
}
