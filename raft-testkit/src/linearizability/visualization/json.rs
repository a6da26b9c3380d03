//! The little JSON the visualization embeds: strings escaped so that the text
//! is safe inside an HTML `<script>` element.

use std::fmt::Write;

/// Appends `value` as a JSON string literal.
///
/// Besides JSON's own escapes, `<` becomes `\u003c` (so no `</script>` or
/// `<!--` can end or confuse the script element) and U+2028 and U+2029 are
/// escaped, as old JavaScript parsers refuse them raw.
pub(crate) fn push_string(out: &mut String, value: &str) {
    out.push('"');
    for character in value.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '\u{2028}' | '\u{2029}' | '\u{0}'..='\u{1f}' => {
                let _ = write!(out, "\\u{:04x}", character as u32);
            }
            _ => out.push(character),
        }
    }
    out.push('"');
}

/// Appends `value` as a JSON string literal, or `null`.
pub(crate) fn push_optional_string(out: &mut String, value: Option<&str>) {
    match value {
        Some(value) => push_string(out, value),
        None => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests;
