//! The one unsafe boundary: the C++ shim's `meshplane_re2_compile`.
#![allow(unsafe_code)]

use std::os::raw::{c_char, c_int};

use crate::Compiled;

extern "C" {
    fn meshplane_re2_compile(
        pattern: *const c_char,
        pattern_len: usize,
        program_size: *mut c_int,
        error: *mut c_char,
        error_cap: usize,
    ) -> c_int;
}

const ERROR_CAP: usize = 512;

pub(crate) fn compile(pattern: &str) -> Result<Compiled, String> {
    let mut size: c_int = 0;
    let mut error = [0u8; ERROR_CAP];
    // SAFETY: the pattern pointer and length describe a live &str (RE2 takes
    // a StringPiece, so no NUL terminator is needed); `size` and `error`
    // are live, writable, and the shim writes at most ERROR_CAP bytes.
    let ok = unsafe {
        meshplane_re2_compile(
            pattern.as_ptr().cast(),
            pattern.len(),
            &mut size,
            error.as_mut_ptr().cast(),
            ERROR_CAP,
        )
    };
    if ok == 1 {
        Ok(Compiled {
            program_size: u32::try_from(size).unwrap_or(u32::MAX),
        })
    } else {
        let n = usize::try_from(size).unwrap_or(0).min(ERROR_CAP);
        Err(String::from_utf8_lossy(&error[..n]).into_owned())
    }
}
