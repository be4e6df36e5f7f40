import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's chromium (`make chromium` installs it); FERRY_CHROMIUM names another. */
export const CHROMIUM = process.env.FERRY_CHROMIUM ?? "/usr/bin/chromium";

/** A headless Chromium from this machine: playwright-core never downloads one. */
export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the dashboard tests need Chromium at ${CHROMIUM}: run 'make chromium' (Debian's chromium)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}
