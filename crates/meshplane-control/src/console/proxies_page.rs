//! The proxies page: a table filled and kept current by console.js from the
//! server-sent events of `/ui/events` (no page reload).

use super::html::page;

pub fn render() -> String {
    let body = r#"<form class="filters" role="search" id="proxy-filters">
<label for="proxy-filter">Filter proxies</label>
<input id="proxy-filter" type="search" placeholder="identity, principal, status" autocomplete="off">
<label for="proxy-sort">Sort by</label>
<select id="proxy-sort"><option value="status">status</option><option value="identity">identity</option><option value="since">connected since</option></select>
</form>
<p class="live" id="proxy-live" role="status" aria-live="polite">Connecting to live updates…</p>
<table class="proxies" id="proxy-table"><caption>Connected proxies (live)</caption>
<thead><tr><th scope="col">Status</th><th scope="col">Identity</th><th scope="col">Principal</th><th scope="col">Replica (stream, address)</th><th scope="col">xDS variant</th><th scope="col">Per type: sent / ACKed version</th><th scope="col">Connected for</th><th scope="col">Last NACK and its spec source</th></tr></thead>
<tbody id="proxy-rows"><tr><td colspan="8">Waiting for the first update…</td></tr></tbody></table>
"#;
    page("Proxies", "/ui/proxies", body)
}
