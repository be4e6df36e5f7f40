/** Named entities decoded in titles: XML's five, and the Latin-1 and typographic ones pages use most. */
const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  copy: "\u00a9",
  reg: "\u00ae",
  trade: "\u2122",
  euro: "\u20ac",
  pound: "\u00a3",
  yen: "\u00a5",
  cent: "\u00a2",
  sect: "\u00a7",
  deg: "\u00b0",
  middot: "\u00b7",
  bull: "\u2022",
  hellip: "\u2026",
  mdash: "\u2014",
  ndash: "\u2013",
  lsquo: "\u2018",
  rsquo: "\u2019",
  sbquo: "\u201a",
  ldquo: "\u201c",
  rdquo: "\u201d",
  bdquo: "\u201e",
  laquo: "\u00ab",
  raquo: "\u00bb",
  times: "\u00d7",
  divide: "\u00f7",
  szlig: "\u00df",
  aelig: "\u00e6",
  AElig: "\u00c6",
  oslash: "\u00f8",
  Oslash: "\u00d8",
  aring: "\u00e5",
  Aring: "\u00c5",
  ccedil: "\u00e7",
  Ccedil: "\u00c7",
  ntilde: "\u00f1",
  Ntilde: "\u00d1",
};

// Letters with the usual accents: &eacute; &Uuml; &acirc; &ograve; ...
const ACCENTS: Record<string, string> = {
  acute: "\u0301",
  grave: "\u0300",
  circ: "\u0302",
  uml: "\u0308",
  tilde: "\u0303",
};

function named(name: string): string | undefined {
  const direct = NAMED[name];
  if (direct !== undefined) return direct;
  const match = /^([aeiouyAEIOUY])(acute|grave|circ|uml|tilde)$/.exec(name);
  if (!match) return undefined;
  return `${match[1]}${ACCENTS[match[2] as string]}`.normalize("NFC");
}

/** Decodes HTML character references; unknown or invalid ones stay as written. */
export function decodeEntities(text: string): string {
  return text.replace(
    /&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/g,
    (whole, ref: string) => {
      if (ref.startsWith("#")) {
        const code =
          ref[1] === "x" || ref[1] === "X"
            ? Number.parseInt(ref.slice(2), 16)
            : Number.parseInt(ref.slice(1), 10);
        if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return "\ufffd";
        return String.fromCodePoint(code);
      }
      return named(ref) ?? whole;
    },
  );
}

const TITLE = /<title(?:\s[^>]*)?>([\s\S]*?)<\/title\s*>/i;

/**
 * The text of the first `<title>` element: entities decoded, runs of
 * whitespace collapsed to one space, trimmed. "" when there is none.
 */
export function extractTitle(html: string): string {
  const match = TITLE.exec(html);
  if (!match) return "";
  return decodeEntities(match[1] as string)
    .replace(/[\t\n\f\r ]+/g, " ")
    .trim();
}

/** True once `html` holds a complete title element (or its end), so reading further cannot change the title. */
export function hasTitleEnd(html: string): boolean {
  return /<\/title\s*>/i.test(html);
}
