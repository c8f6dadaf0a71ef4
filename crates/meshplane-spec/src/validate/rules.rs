//! Which groups of validation rules run.

/// Which groups of rules run. Every program runs [`Rules::all`]; the
/// switch exists so the end-to-end tests can serve a spec the proxy
/// refuses (to test NACK tracing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// The rules about values the API accepts but the proxy refuses
    /// ([`crate::PROXY_RULES`]).
    pub proxy_compatibility: bool,
}

impl Rules {
    pub const fn all() -> Rules {
        Rules {
            proxy_compatibility: true,
        }
    }
}
