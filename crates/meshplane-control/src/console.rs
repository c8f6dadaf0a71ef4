//! The web console at `/ui` on the admin address: the mesh map, the
//! proxies (live over server-sent events), the problems and each node's
//! Envoy configuration. Server-rendered HTML, one stylesheet and one script
//! embedded in the binary; nothing is fetched from anywhere else
//! (`Content-Security-Policy: default-src 'self'`). Read-only.

mod auth;
mod events;
mod graph;
mod html;
mod layout;
mod map_page;
mod node_page;
mod problems_page;
mod proxies_page;
mod proxies_state;
mod state;

pub use auth::ConsoleAuth;
pub use state::ConsoleState;

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use std::sync::Arc;

use crate::admin::AdminState;

const CSS: &str = include_str!("console/assets/console.css");
const JS: &str = include_str!("console/assets/console.js");
const CSP: &str = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The console's routes, to merge into the admin router.
pub fn router(admin: AdminState, auth: ConsoleAuth) -> Router {
    let state = ConsoleState {
        admin,
        auth: Arc::new(auth),
    };
    let gated = Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/map") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/map") }))
        .route("/ui/map", get(map))
        .route("/ui/proxies", get(proxies))
        .route("/ui/problems", get(problems))
        .route("/ui/node", get(node))
        .route("/ui/events", get(events::proxies))
        .route_layer(middleware::from_fn_with_state(state.clone(), gate));
    Router::new()
        .merge(gated)
        .route("/ui/login", get(login_form).post(login))
        .route("/ui/logout", axum::routing::post(logout))
        .route(
            "/ui/assets/console.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/ui/assets/console.js",
            get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        )
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Sign-in is needed beyond loopback: send the browser to the form.
async fn gate(State(s): State<ConsoleState>, req: Request, next: Next) -> Response {
    if s.auth.open(&s.admin.control.access()) || s.auth.principal(req.headers()).is_some() {
        return next.run(req).await;
    }
    Redirect::to("/ui/login").into_response()
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        body,
    )
        .into_response()
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn map(State(s): State<ConsoleState>) -> Response {
    let served = s.admin.control.served();
    html(
        StatusCode::OK,
        map_page::render(served.as_ref().map(|sv| &sv.model)),
    )
}

async fn proxies() -> Response {
    html(StatusCode::OK, proxies_page::render())
}

async fn problems(State(s): State<ConsoleState>) -> Response {
    let last = s.admin.control.last_reload();
    let history = s.admin.control.reload_history();
    let snapshot = proxies_state::snapshot(&s.admin);
    let mut translation = Vec::new();
    if let Some(sv) = s.admin.control.served() {
        for p in sv.proxies.values() {
            for d in &p.translation.diagnostics {
                if !translation.contains(d) {
                    translation.push(d.clone());
                }
            }
        }
    }
    let page = problems_page::render(&problems_page::Problems {
        last_reload: last.as_deref(),
        translation,
        proxies: &snapshot,
        history: &history,
        kubernetes: crate::admin::kubernetes_not_synced(&s.admin),
    });
    html(StatusCode::OK, page)
}

#[derive(Debug, Deserialize)]
struct NodeQuery {
    name: Option<String>,
}

async fn node(State(s): State<ConsoleState>, Query(q): Query<NodeQuery>) -> Response {
    match node_page::render(&s.admin.control, q.name.as_deref()) {
        Ok(page) => html(StatusCode::OK, page),
        Err((code, page)) => html(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            page,
        ),
    }
}

fn login_page(message: &str) -> String {
    html::page(
        "Sign in",
        "",
        &format!(
            r#"<p>This console is read-only. Sign in with a bearer token listed under <code>tokens</code> in meshplane's auth config (see docs/authentication.md).</p>{}
<form class="login" method="post" action="/ui/login"><label for="token">Bearer token</label><input id="token" name="token" type="password" autocomplete="current-password" required><button type="submit">Sign in</button></form>"#,
            if message.is_empty() {
                String::new()
            } else {
                format!(r#"<p class="bad" role="alert">{}</p>"#, html::esc(message))
            }
        ),
    )
}

async fn login_form() -> Response {
    html(StatusCode::OK, login_page(""))
}

async fn login(State(s): State<ConsoleState>, headers: HeaderMap, body: Bytes) -> Response {
    if !auth::same_origin(&headers) {
        return html(
            StatusCode::FORBIDDEN,
            login_page("Refused: the sign-in form was not posted from this console's own page."),
        );
    }
    let body = String::from_utf8_lossy(&body);
    let token = auth::form_value(&body, "token").unwrap_or_default();
    match s.auth.sign_in(&s.admin.control.access(), &token) {
        Ok(id) => {
            let cookie = format!(
                "{}={id}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=43200",
                auth::COOKIE
            );
            let mut res = Redirect::to("/ui/map").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(why) => html(
            StatusCode::UNAUTHORIZED,
            login_page(&format!("Sign-in refused: {why}")),
        ),
    }
}

async fn logout(State(s): State<ConsoleState>, headers: HeaderMap) -> Response {
    if !auth::same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin sign-out refused\n").into_response();
    }
    s.auth.sign_out(&headers);
    let mut res = Redirect::to("/ui/login").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "meshplane_console=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    res
}
