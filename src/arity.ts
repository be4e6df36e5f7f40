/** Any function, whatever it takes and gives. */
type AnyFunction = (...args: never) => unknown;

/**
 * The most arguments a function declares, read from its source: every
 * parameter counts, those with defaults too (`fn.length` stops at the first
 * default). Undefined when it takes any number (a rest parameter) or its
 * source cannot be read (native and bound functions: `fn.length` then).
 */
export function declaredArity(fn: AnyFunction): number | undefined {
  let arity = known.get(fn);
  if (arity === undefined && !known.has(fn)) {
    arity = readArity(fn);
    known.set(fn, arity);
  }
  return arity;
}

const known = new WeakMap<AnyFunction, number | undefined>();

const OPEN = "([{";
const CLOSE = ")]}";

function readArity(fn: AnyFunction): number | undefined {
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) return fn.length;
  const open = source.indexOf("(");
  const arrow = source.indexOf("=>");
  // `x => …`: one parameter, no parentheses.
  if (arrow >= 0 && (open < 0 || arrow < open)) return 1;
  if (open < 0) return fn.length;
  let depth = 0;
  let params = 0;
  let current = "";
  const finish = (): boolean => {
    const param = current.trim();
    current = "";
    if (param === "") return true;
    if (param.startsWith("...")) return false;
    params++;
    return true;
  };
  for (let i = open + 1; i < source.length; i++) {
    const c = source.charAt(i);
    if (c === '"' || c === "'" || c === "`") {
      // Skip a string literal (a default value), escapes and all.
      const start = i;
      for (i++; i < source.length && source.charAt(i) !== c; i++) if (source.charAt(i) === "\\") i++;
      current += source.slice(start, i + 1);
      continue;
    }
    if (OPEN.includes(c)) depth++;
    else if (CLOSE.includes(c)) {
      if (depth === 0) return finish() ? params : undefined;
      depth--;
    } else if (c === "," && depth === 0) {
      if (!finish()) return undefined;
      continue;
    }
    current += c;
  }
  return fn.length;
}
