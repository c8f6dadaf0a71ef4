//! An accessibility check run in the browser on a console page: headings
//! present and in order, every form control labelled, and text contrast of
//! at least 4.5:1 computed from the colours the browser resolved (HTML text
//! against its nearest opaque background; SVG text against its box).

use serde_json::Value;

use super::webdriver::Browser;

const SCRIPT: &str = r#"
const problems = [];
const hs = Array.from(document.querySelectorAll("h1,h2,h3,h4,h5,h6"));
if (document.querySelectorAll("h1").length !== 1) problems.push("expected exactly one h1, found " + document.querySelectorAll("h1").length);
let prev = 0;
for (const h of hs) {
  const lvl = parseInt(h.tagName[1]);
  if (prev && lvl > prev + 1) problems.push("heading " + h.tagName + " '" + h.textContent.trim() + "' skips a level after h" + prev);
  if (!prev && lvl !== 1) problems.push("first heading is " + h.tagName);
  if (!h.textContent.trim()) problems.push("empty " + h.tagName);
  prev = lvl;
}
for (const c of document.querySelectorAll("input,select,textarea")) {
  if (c.type === "hidden") continue;
  const byFor = c.id && document.querySelector('label[for="' + CSS.escape(c.id) + '"]');
  if (!byFor && !c.closest("label") && !c.getAttribute("aria-label")) problems.push("unlabelled control " + (c.id || c.name || c.tagName));
}
function rgb(s) {
  const m = s.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
}
function lum(c) {
  const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}
function ratio(a, b) { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
function bgOf(e) {
  for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
    if (n instanceof SVGElement && n.tagName !== "svg") {
      const g = n.closest("g.v");
      if (g && g.querySelector("rect")) {
        const c = rgb(getComputedStyle(g.querySelector("rect")).fill);
        if (c && c.a > 0.99) return c;
      }
      continue;
    }
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c && c.a > 0.99) return c;
  }
  return { r: 255, g: 255, b: 255, a: 1 };
}
let checked = 0;
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const seen = new Set();
while (walker.nextNode()) {
  const t = walker.currentNode;
  if (!t.textContent.trim()) continue;
  const e = t.parentElement;
  if (!e || seen.has(e)) continue;
  seen.add(e);
  const st = getComputedStyle(e);
  if (st.display === "none" || st.visibility === "hidden" || e.closest("title,script,style,option")) continue;
  const fg = rgb(e instanceof SVGElement ? st.fill : st.color);
  if (!fg) continue;
  const r = ratio(fg, bgOf(e));
  checked++;
  if (r < 4.5) problems.push("contrast " + r.toFixed(2) + ":1 for '" + t.textContent.trim().slice(0, 40) + "' (" + (e instanceof SVGElement ? st.fill : st.color) + ")");
}
return { problems: problems.slice(0, 20), headings: hs.length, texts_checked: checked };
"#;

/// Run the check on the current page; an error lists what failed.
pub fn check(b: &Browser, page: &str) -> anyhow::Result<Value> {
    let v = b.eval(SCRIPT, &[])?;
    let problems = v["problems"].as_array().cloned().unwrap_or_default();
    if !problems.is_empty() {
        anyhow::bail!("accessibility problems on {page}: {problems:#?}");
    }
    Ok(v)
}
