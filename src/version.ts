import { readFileSync } from "node:fs";

/** Version of the ferry.v1 wire contract; bumped on any incompatible change. */
export const PROTOCOL_VERSION = 1;

/** The installed ferry package version. */
export const VERSION: string = (() => {
  const url = new URL(
    import.meta.url.includes("/dist/") ? "../../package.json" : "../package.json",
    import.meta.url,
  );
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
})();
