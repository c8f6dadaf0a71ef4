//! The order of a router's routes in Envoy's first-match list.
//!
//! 1. Routes with a `priority` first, lowest number first (0 is highest);
//!    routes without one after all those with one.
//! 2. Equal priority (or none): the more specific match first:
//!    exact path (`path.exact`, gRPC service + method) before prefixes,
//!    longer prefixes before shorter ones, prefixes before regular
//!    expressions (whose specificity cannot be compared);
//!    then more conditions (headers, query parameters, method, scheme,
//!    metadata) before fewer.
//! 3. Still equal: route name, so the output never depends on load order.

use std::cmp::Reverse;

use meshplane_spec::route::RouteSpec;

pub fn sort(routes: &mut [(&str, &RouteSpec)]) {
    routes.sort_by(|(an, a), (bn, b)| {
        let ka = (
            a.priority.is_none(),
            a.priority.unwrap_or(0),
            specificity(a),
        );
        let kb = (
            b.priority.is_none(),
            b.priority.unwrap_or(0),
            specificity(b),
        );
        ka.cmp(&kb).then_with(|| an.cmp(bn))
    });
}

/// (match kind rank, longer prefix first, more conditions first).
fn specificity(r: &RouteSpec) -> (u8, Reverse<usize>, Reverse<usize>) {
    if let Some(h) = r.http_route.as_ref().or(r.http2_route.as_ref()) {
        let m = &h.match_;
        let conditions = m.headers.as_ref().map_or(0, Vec::len)
            + m.query_parameters.as_ref().map_or(0, Vec::len)
            + usize::from(m.method.is_some())
            + usize::from(m.scheme.is_some());
        let (rank, len) = match (&m.path, &m.prefix) {
            (Some(p), _) if p.exact.is_some() => (0, 0),
            (Some(p), _) if p.regex.is_some() => (2, 0),
            (_, Some(prefix)) => (1, prefix.len()),
            _ => (1, 1),
        };
        (rank, Reverse(len), Reverse(conditions))
    } else if let Some(g) = &r.grpc_route {
        let m = &g.match_;
        let conditions = m.metadata.as_ref().map_or(0, Vec::len);
        let (rank, len) = match (&m.service_name, &m.method_name) {
            (Some(_), Some(_)) => (0, 0),
            (Some(s), None) => (1, s.len() + 2),
            _ => (1, 1),
        };
        (rank, Reverse(len), Reverse(conditions))
    } else {
        (3, Reverse(0), Reverse(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshplane_spec::route::{HttpRoute, HttpRouteMatch, RouteAction};

    fn http(prefix: &str, priority: Option<i64>) -> RouteSpec {
        RouteSpec {
            http_route: Some(HttpRoute {
                action: RouteAction {
                    weighted_targets: vec![],
                },
                match_: HttpRouteMatch {
                    prefix: Some(prefix.to_owned()),
                    ..Default::default()
                },
                retry_policy: None,
                timeout: None,
            }),
            priority,
            ..Default::default()
        }
    }

    #[test]
    fn priority_then_specificity_then_name() {
        let (a, b, c, d, e) = (
            http("/", Some(5)),
            http("/long/prefix", None),
            http("/", Some(0)),
            http("/x", None),
            http("/x", None),
        );
        let mut routes = vec![("a", &a), ("b", &b), ("c", &c), ("e", &e), ("d", &d)];
        sort(&mut routes);
        let names: Vec<_> = routes.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["c", "a", "b", "d", "e"]);
    }
}
