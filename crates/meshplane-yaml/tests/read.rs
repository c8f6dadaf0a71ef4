//! The reading rules, especially where the three readers this crate
//! replaced (authz, bootstrap, certificates) used to disagree.

use meshplane_yaml::{read_document, read_single, to_yaml, NODE_BUDGET};
use serde_json::{json, Value};

fn read(text: &str) -> Value {
    read_single(text)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .unwrap_or_else(|| panic!("{text:?}: no document"))
}

fn error(text: &str) -> String {
    read_single(text)
        .expect_err(&format!("{text:?} must be refused"))
        .to_string()
}

#[test]
fn an_empty_text_holds_no_document() {
    // authz and certificates said "empty", bootstrap said null: now the
    // caller decides, from `None`.
    assert_eq!(read_single(""), Ok(None));
    assert_eq!(read_single("# only a comment\n"), Ok(None));
    assert_eq!(read_single("---\n"), Ok(Some(Value::Null)));
    let e = read_document("\n").expect_err("a file must hold a document");
    assert!(e.to_string().contains("empty"), "{e}");
}

#[test]
fn decimals_are_numbers_and_infinities_are_strings() {
    // certificates read 1.5 as a string; bootstrap refused .inf.
    assert_eq!(
        read("a: 1.5\nb: .inf\nc: -.Inf\nd: .nan\ne: 1e3\n"),
        json!({"a": 1.5, "b": ".inf", "c": "-.Inf", "d": ".nan", "e": 1000.0})
    );
}

#[test]
fn yaml_1_1_words_are_strings_and_core_words_are_not() {
    assert_eq!(
        read("[yes, no, on, off, y, True, NULL, ~, 0x10, 0o10, 010]"),
        json!(["yes", "no", "on", "off", "y", true, null, null, 16, 8, 10])
    );
}

#[test]
fn quoted_and_block_scalars_are_strings() {
    assert_eq!(
        read("a: \"80\"\nb: 'true'\nc: |\n  null\n"),
        json!({"a": "80", "b": "true", "c": "null\n"})
    );
}

#[test]
fn scalar_keys_are_taken_as_written() {
    // certificates refused any key but a string.
    assert_eq!(
        read("80: a\ntrue: b\n1.50: c\n~: d\n"),
        json!({"80": "a", "true": "b", "1.50": "c", "~": "d"})
    );
    let e = error("[a, b]: c\n");
    assert!(e.contains("key must be a scalar"), "{e}");
}

#[test]
fn core_tags_force_a_type_and_other_tags_are_refused() {
    // All three dropped an unknown tag silently (`!Ref x` read as "x").
    assert_eq!(
        read("a: !!str 80\nb: !!int '7'\nc: !!float 2\nd: !!map {x: 1}\n"),
        json!({"a": "80", "b": 7, "c": 2.0, "d": {"x": 1}})
    );
    let e = error("a: !Ref x\n");
    assert!(e.contains("line 1") && e.contains("!Ref"), "{e}");
    let e = error("a: !!int x\n");
    assert!(e.contains("not a valid !!int"), "{e}");
    let e = error("a: !custom [1]\n");
    assert!(e.contains("!custom"), "{e}");
}

#[test]
fn aliases_expand_and_merge_keys_apply() {
    // The old readers claimed aliases were unsupported, yet yaml-rust2's
    // loader expanded them (without a budget) and kept `<<` as a key.
    assert_eq!(
        read("base: &b {port: 80, protocol: http}\ncopy: *b\nl:\n  <<: *b\n  port: 8080\n"),
        json!({
            "base": {"port": 80, "protocol": "http"},
            "copy": {"port": 80, "protocol": "http"},
            "l": {"port": 8080, "protocol": "http"}
        })
    );
}

#[test]
fn alias_bombs_and_deep_nesting_are_refused() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..8 {
        let prev = if i == 0 {
            "a".to_owned()
        } else {
            format!("a{}", i - 1)
        };
        let items = vec![format!("*{prev}"); 10].join(", ");
        bomb.push_str(&format!("b{i}: &a{i} [{items}]\n"));
    }
    let e = error(&bomb);
    assert!(e.contains(&NODE_BUDGET.to_string()), "{e}");
    let e = error(&"[".repeat(500));
    assert!(e.contains("deeper") || e.contains("not valid"), "{e}");
}

#[test]
fn duplicate_keys_and_second_documents_are_errors_with_their_line() {
    let e = error("a: 1\nb: 2\na: 3\n");
    assert!(
        e.starts_with("line 3:") && e.contains("first on line 1"),
        "{e}"
    );
    let e = error("a: 1\n---\nb: 2\n");
    assert!(
        e.starts_with("line 2:") && e.contains("one YAML document"),
        "{e}"
    );
    let e = error("a: [1, 2\n");
    assert!(e.contains("not valid YAML"), "{e}");
}

#[test]
fn json_reads_as_json() {
    let text = r#"{"a": [1, 2.5, "x", null, true], "b": {"c": "80"}}"#;
    let expected: Value = serde_json::from_str(text).unwrap();
    assert_eq!(read(text), expected);
}

#[test]
fn what_is_written_reads_back_the_same() {
    let value = json!({
        "@type": "type.googleapis.com/x",
        "port": 9901,
        "flag": true,
        "rate": 0.25,
        "numeric_string": "1000",
        "bool_string": "true",
        "null_string": "null",
        "tilde": "~",
        "yes": "yes",
        "colon": "a: b",
        "hash": "x #y",
        "empty": {},
        "list": [],
        "nested": [{ "k": "v" }, "s"],
        "auth": "Bearer abc.def-ghi_jkl~=",
        "multi": "line1\nline2",
        "tag_like": "!Ref x"
    });
    let text = to_yaml(&value).unwrap();
    assert!(text.starts_with("---\n"), "{text}");
    assert_eq!(read_single(&text), Ok(Some(value)), "{text}");
}
