//! Builds the C++ shim over RE2 and links RE2 statically (Debian:
//! `libre2-dev`, installed by `scripts/prereqs.sh`), so the `meshplane`
//! binary needs no RE2 at run time. `RE2_LIB_DIR` overrides where
//! `libre2.a` is looked for (default: where the C++ compiler finds it).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=src/shim.cc");
    println!("cargo:rerun-if-env-changed=RE2_LIB_DIR");
    let mut build = cc::Build::new();
    build.cpp(true).std("c++17").file("src/shim.cc");
    let compiler = build.get_compiler();
    build.compile("meshplane_re2_shim");
    let dir = match std::env::var_os("RE2_LIB_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => find_static_lib(compiler.path()).unwrap_or_else(|| {
            panic!(
                "libre2.a not found: install RE2's development files \
                 (Debian/Ubuntu: apt-get install libre2-dev) or set RE2_LIB_DIR"
            )
        }),
    };
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=static=re2");
}

/// The directory of `libre2.a` as the compiler's library search finds it.
fn find_static_lib(compiler: &std::path::Path) -> Option<PathBuf> {
    let out = Command::new(compiler)
        .arg("-print-file-name=libre2.a")
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    // An unknown file is printed back as the bare name.
    if path.is_absolute() && path.exists() {
        path.parent().map(PathBuf::from)
    } else {
        None
    }
}
