//! TLS (a later task): listener TLS termination and backend client
//! policies will attach transport sockets and secrets here.
//!
//! Until then a listener with TLS enabled (STRICT or PERMISSIVE) is served
//! in plaintext and reported, so nobody believes traffic is encrypted.

use meshplane_spec::tls::TlsMode;
use meshplane_spec::virtual_node::Listener as NodeListener;
use meshplane_spec::ResourceId;

use crate::emit::Emit;

/// Reports TLS the translation does not apply yet on node listener `index`.
pub fn ingress_listener(emit: &mut Emit<'_>, node: &ResourceId, index: usize, l: &NodeListener) {
    if let Some(tls) = &l.tls {
        if tls.mode != TlsMode::Disabled {
            emit.warn(
                "translate.tls.unsupported",
                node,
                &format!("spec.listeners[{index}].tls"),
                "listener TLS is not translated yet; the listener accepts plaintext only"
                    .to_owned(),
            );
        }
    }
}
