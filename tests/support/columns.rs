//! Splitting space-separated log lines into columns, for tests that
//! compare records with their source lines.

/// Splits at spaces; `"..."` (with `\"` inside) and, if `brackets`,
/// `[...]` are one token.
pub fn space_columns(line: &str, brackets: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let (tok, next) = if let Some(body) = rest.strip_prefix('"') {
            let bytes = body.as_bytes();
            let mut end = None;
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if bytes[i] == b'"' && matches!(bytes.get(i + 1), None | Some(b' ')) {
                    end = Some(i);
                    break;
                }
                i += 1;
            }
            let end = end.unwrap_or(body.len());
            (
                body[..end].replace("\\\"", "\""),
                &body[(end + 1).min(body.len())..],
            )
        } else if let Some(body) = rest.strip_prefix('[').filter(|_| brackets) {
            let end = body.find(']').unwrap_or(body.len());
            (body[..end].to_string(), &body[(end + 1).min(body.len())..])
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            (rest[..end].to_string(), &rest[end..])
        };
        out.push(tok);
        rest = next.trim_start();
    }
    out
}
