//! Two loads are the same: model, origins, findings, files and skipped
//! documents.

use meshplane_load::Loaded;

pub fn assert_same(got: &Loaded, want: &Loaded) {
    assert_eq!(got.model, want.model);
    assert_eq!(got.origins, want.origins);
    assert_eq!(got.diagnostics, want.diagnostics);
    assert_eq!(got.files, want.files);
    assert_eq!(got.skipped, want.skipped);
}
