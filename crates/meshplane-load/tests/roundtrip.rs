#![allow(clippy::unwrap_used)]
//! export -> load is the identity on generated mesh models.

#[path = "support/arbitrary_mesh.rs"]
mod arbitrary_mesh;

use std::path::Path;

use meshplane_load::{export, load_str, ExportFormat, LoadOptions};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn export_then_load_gives_the_same_model(model in arbitrary_mesh::mesh_model()) {
        for (format, file) in [(ExportFormat::CliJson, "export.json"), (ExportFormat::Yaml, "export.yaml")] {
            let text = export(&model, format);
            let loaded = load_str(Path::new(file), &text, &LoadOptions::default());
            let shown: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
            prop_assert!(shown.is_empty(), "{}:\n{}\n{}", file, shown.join("\n"), text);
            prop_assert_eq!(&loaded.model, &model, "{}:\n{}", file, text);
            // Export is deterministic.
            prop_assert_eq!(export(&loaded.model, format), text);
        }
    }
}
