//! RE2 as a proxy compiles regular expressions: [`compile`] runs the pattern
//! through libre2 (the C++ library, through a small shim built by `build.rs`)
//! with the options Envoy's RE2 matcher uses and returns either RE2's error
//! or the compiled program's size, which Envoy compares with the runtime
//! limit `re2.max_program_size.error_level` ([`MAX_PROGRAM_SIZE`], the value
//! meshplane's bootstrap sets).

mod ffi;

/// The largest RE2 program a proxy accepts: the bootstrap's runtime value
/// of `re2.max_program_size.error_level` (Envoy's own default is 100).
pub const MAX_PROGRAM_SIZE: u32 = 1000;

/// A pattern RE2 compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compiled {
    /// RE2's program size (`RE2::ProgramSize`).
    pub program_size: u32,
}

/// Why RE2 refused a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Re2Error {
    /// RE2's parse error, as it words it (`invalid repetition size: {1,20}`).
    Syntax(String),
    /// The program is larger than [`MAX_PROGRAM_SIZE`].
    ProgramTooLarge { size: u32, limit: u32 },
}

impl std::fmt::Display for Re2Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Re2Error::Syntax(m) => f.write_str(m),
            Re2Error::ProgramTooLarge { size, limit } => write!(
                f,
                "RE2 program size {size} exceeds the limit of {limit}; simplify the expression"
            ),
        }
    }
}

/// Compiles `pattern` with RE2; `Ok` only when a proxy would accept it
/// (valid syntax and a program no larger than [`MAX_PROGRAM_SIZE`]).
pub fn check(pattern: &str) -> Result<Compiled, Re2Error> {
    let compiled = compile(pattern).map_err(Re2Error::Syntax)?;
    if compiled.program_size > MAX_PROGRAM_SIZE {
        return Err(Re2Error::ProgramTooLarge {
            size: compiled.program_size,
            limit: MAX_PROGRAM_SIZE,
        });
    }
    Ok(compiled)
}

/// Compiles `pattern` with RE2: its program size, or RE2's error message.
pub fn compile(pattern: &str) -> Result<Compiled, String> {
    ffi::compile(pattern)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn valid_patterns_compile_with_a_program_size() {
        let c = compile("^/api/v[0-9]+$").unwrap();
        assert!(c.program_size > 0 && c.program_size < 100, "{c:?}");
    }

    #[test]
    fn re2_syntax_errors_are_worded_as_re2_words_them() {
        assert_eq!(
            compile(r"([a-z0-9]{1,100}\.){1,20}[a-z]{2,50}"),
            Err("invalid repetition size: {1,20}".to_owned())
        );
        // Debian's RE2 (2022) stops at `(?<`, Envoy's newer one at `(?<=`.
        let lookbehind = compile("(?<=y)es").unwrap_err();
        assert!(
            lookbehind.starts_with("invalid perl operator: (?<"),
            "{lookbehind}"
        );
        assert_eq!(
            compile(r"(a)\1").unwrap_err(),
            r"invalid escape sequence: \1"
        );
        assert_eq!(
            compile("a{1001}").unwrap_err(),
            "invalid repetition size: {1001}"
        );
    }

    #[test]
    fn a_program_over_the_limit_is_refused() {
        let big = "[a-z]{500}[0-9]{500}";
        let size = compile(big).unwrap().program_size;
        assert!(size > MAX_PROGRAM_SIZE, "{size}");
        assert_eq!(
            check(big),
            Err(Re2Error::ProgramTooLarge {
                size,
                limit: MAX_PROGRAM_SIZE
            })
        );
        assert!(check("a{100}").is_ok());
    }

    #[test]
    fn patterns_with_nul_bytes_are_passed_whole() {
        assert!(compile("a\0b").is_ok());
    }
}
