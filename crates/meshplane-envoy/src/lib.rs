//! Envoy v3 protobuf plumbing (filled in by the translation work).
