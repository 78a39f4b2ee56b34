//! Text shown back to a caller: what a request asked for, cut so that it can
//! be named in an error without control characters or without limit. A leaf:
//! it uses no other module.

/// At most 64 characters of what was asked for, without control characters,
/// to name it in an error.
pub fn printable(asked: &str) -> String {
    asked.chars().filter(|c| !c.is_control()).take(64).collect()
}
