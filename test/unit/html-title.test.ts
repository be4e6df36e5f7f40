import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeEntities, extractTitle } from "../../server/fetcher/html-title.js";

test("the first title's text, any case, with attributes", () => {
  assert.equal(extractTitle("<html><head><title>Hello</title></head></html>"), "Hello");
  assert.equal(extractTitle('<TITLE lang="en">Upper</TITLE><title>second</title>'), "Upper");
  assert.equal(extractTitle(`${"<p>filler</p>".repeat(5000)}<title>late</title>`), "late");
});

test("entities are decoded: named, decimal, hex; unknown ones stay", () => {
  assert.equal(
    extractTitle("<title>Fish &amp; Chips &lt;3 &quot;x&quot; &apos;y&apos;</title>"),
    "Fish & Chips <3 \"x\" 'y'",
  );
  assert.equal(extractTitle("<title>caf&eacute; &#233; &#xE9; &#XE9;</title>"), "café é é é");
  assert.equal(extractTitle("<title>A &mdash; B &hellip; &copy; &euro;</title>"), "A — B … © €");
  assert.equal(extractTitle("<title>&bogus; &amp</title>"), "&bogus; &amp");
  assert.equal(decodeEntities("&#0; &#x110000;"), "\ufffd \ufffd");
  assert.equal(decodeEntities("&Uuml;ber &ntilde;"), "Über ñ");
});

test("whitespace collapses and trims; no title is empty", () => {
  assert.equal(extractTitle("<title>\n   Many\t\t  spaces \r\n here  </title>"), "Many spaces here");
  assert.equal(extractTitle("<title></title>"), "");
  assert.equal(extractTitle("<html><body>no title</body></html>"), "");
  assert.equal(extractTitle("<title>unclosed"), "");
});
