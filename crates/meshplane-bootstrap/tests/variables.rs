//! Each variable's effect on the bootstrap, and the errors bad values give.
//! One test binary; the cases live in `variables/`, one file per concern.

mod variables {
    mod support;

    mod connection;
    mod general;
    mod identity;
    mod stats;
    mod tracing;
}
