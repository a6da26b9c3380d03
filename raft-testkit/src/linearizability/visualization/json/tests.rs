//! Unit tests of the JSON string escaping.

use super::*;

fn encoded(value: &str) -> String {
    let mut out = String::new();
    push_string(&mut out, value);
    out
}

#[test]
fn json_escapes_are_applied() {
    assert_eq!(encoded("plain 'text' -> ok"), "\"plain 'text' -> ok\"");
    assert_eq!(encoded("a\"b\\c\nd\te\u{1}"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
}

#[test]
fn nothing_can_close_the_script_element() {
    let out = encoded("</script><!-- \u{2028}");
    assert!(!out.contains('<'));
    assert_eq!(out, "\"\\u003c/script>\\u003c!-- \\u2028\"");
    let mut missing = String::new();
    push_optional_string(&mut missing, None);
    assert_eq!(missing, "null");
}
