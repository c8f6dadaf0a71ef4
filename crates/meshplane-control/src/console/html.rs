//! HTML helpers shared by the console's pages: escaping and the page shell
//! (navigation, the one stylesheet and the one script).

/// Escape text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode a query parameter value.
pub fn query_value(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The pages in the navigation bar: (path, title).
const NAV: [(&str, &str); 3] = [
    ("/ui/map", "Mesh map"),
    ("/ui/proxies", "Proxies"),
    ("/ui/problems", "Problems"),
];

/// A whole page: `title` is the `<h1>`, `current` the navigation entry to
/// mark, `body` the page's content (already escaped).
pub fn page(title: &str, current: &str, body: &str) -> String {
    let mut nav = String::new();
    for (href, name) in NAV {
        let cur = if href == current {
            r#" aria-current="page""#
        } else {
            ""
        };
        nav.push_str(&format!(r#"<a href="{href}"{cur}>{name}</a>"#));
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t} · meshplane</title>
<link rel="stylesheet" href="/ui/assets/console.css">
<script src="/ui/assets/console.js" defer></script>
</head><body>
<header><span class="brand">meshplane</span><nav aria-label="Console pages">{nav}</nav><span class="ro">read-only</span></header>
<main><h1>{t}</h1>
{body}
</main></body></html>
"#,
        t = esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            esc(r#"<a href="x">'&'"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;"
        );
        assert_eq!(query_value("mesh/a b&c"), "mesh/a%20b%26c");
    }
}
