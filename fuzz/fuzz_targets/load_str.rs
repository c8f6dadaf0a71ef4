//! Feeds arbitrary bytes to the spec loader under every file extension it
//! reads: any input must give diagnostics, never a panic, and whatever
//! loaded must come back unchanged through export -> load.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use meshplane_load::{export, load_str, ExportFormat, LoadOptions};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let opts = LoadOptions::default();
    for file in ["input.json", "input.yaml", "input.yml"] {
        let loaded = load_str(Path::new(file), &text, &opts);
        for d in &loaded.diagnostics {
            assert!(d.rule.starts_with("load."), "{d}");
        }
        for (format, name) in [(ExportFormat::CliJson, "x.json"), (ExportFormat::Yaml, "x.yaml")] {
            let exported = export(&loaded.model, format);
            let again = load_str(Path::new(name), &exported, &opts);
            assert!(again.diagnostics.is_empty(), "{:?}\n{exported}", again.diagnostics);
            assert_eq!(again.model, loaded.model, "{exported}");
        }
    }
});
