//! What file transfer reads from and writes into HTTP headers: the file name,
//! the media type, `Range`, `Content-Disposition`.

use axum::http::HeaderValue;

/// Longest file name, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest media type, in bytes (RFC 6838 allows 127 for each half).
pub const MAX_MEDIA_TYPE: usize = 255;

/// Invisible characters that can make a name read differently from what it is
/// (`invoice\u{202E}fdp.exe` shows as `invoiceexe.pdf`): bidirectional
/// controls, zero-width characters and the byte-order mark. They are dropped.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The file name as stored: path separators and control characters become `_`,
/// invisible direction and width marks are dropped, and spaces and dots at the
/// ends are trimmed (Windows drops trailing ones, which would turn `a.exe.` into
/// `a.exe` after the extension was checked). `Err` names the problem.
pub fn file_name(raw: &str) -> Result<String, String> {
    // The query string is bounded by the server's header limits; this bounds the work.
    if raw.len() > MAX_NAME_CHARS * 4 * 4 {
        return Err(format!(
            "A file name is at most {MAX_NAME_CHARS} characters."
        ));
    }
    let cleaned: String = raw
        .chars()
        .filter(|c| !invisible(*c))
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let name = cleaned
        .trim_start()
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    if name.is_empty() {
        return Err("Give the file's name as ?name= (1 to 255 characters).".to_owned());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "A file name is at most {MAX_NAME_CHARS} characters."
        ));
    }
    Ok(name.to_owned())
}

/// RFC 9110 `tchar`: what a media type's type and subtype are made of.
fn token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The media type of an upload from its `Content-Type`: `type/subtype` in
/// lowercase, parameters kept as sent; `application/octet-stream` when none.
pub fn media_type(header: Option<&HeaderValue>) -> Result<String, String> {
    let Some(header) = header else {
        return Ok("application/octet-stream".to_owned());
    };
    let refuse = || {
        format!(
            "Content-Type must be a media type such as text/plain, at most {MAX_MEDIA_TYPE} characters."
        )
    };
    let value = header.to_str().map_err(|_| refuse())?.trim();
    if value.len() > MAX_MEDIA_TYPE || value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        return Err(refuse());
    }
    let (essence, parameters) = match value.split_once(';') {
        Some((essence, parameters)) => (essence.trim(), Some(parameters)),
        None => (value, None),
    };
    match essence.split_once('/') {
        Some((kind, sub)) if token(kind) && token(sub) => {}
        _ => return Err(refuse()),
    }
    let essence = essence.to_ascii_lowercase();
    Ok(match parameters {
        Some(parameters) => format!("{essence};{parameters}"),
        None => essence,
    })
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// No range, or one this server ignores (malformed, several ranges, another
    /// unit): the whole file, 200.
    Full,
    /// Bytes `start..=end`, 206.
    Part { start: u64, end: u64 },
    /// Nothing of the file is in the range: 416.
    Unsatisfiable,
}

/// Reads one `bytes=a-b`, `bytes=a-` or `bytes=-n` range (RFC 9110 §14.1.2).
/// Several ranges are answered with the whole file, which the RFC allows and
/// which spares a multipart body; an unparsable header is ignored.
pub fn byte_range(header: Option<&HeaderValue>, size: u64) -> ByteRange {
    let Some(value) = header.and_then(|h| h.to_str().ok()) else {
        return ByteRange::Full;
    };
    let value = value.trim();
    let Some(spec) = value
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .map(|_| value[6..].trim())
    else {
        return ByteRange::Full;
    };
    if spec.contains(',') {
        return ByteRange::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return ByteRange::Full;
    };
    // Digits only; a number beyond u64 is as good as infinite.
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().unwrap_or(u64::MAX))
    };
    match (first, last) {
        ("", suffix) => match number(suffix) {
            None => ByteRange::Full,
            Some(0) => ByteRange::Unsatisfiable,
            Some(_) if size == 0 => ByteRange::Unsatisfiable,
            Some(n) => ByteRange::Part {
                start: size.saturating_sub(n),
                end: size - 1,
            },
        },
        (first, last) => {
            let Some(start) = number(first) else {
                return ByteRange::Full;
            };
            let end = if last.is_empty() {
                u64::MAX
            } else {
                match number(last) {
                    Some(end) if end >= start => end,
                    Some(_) => return ByteRange::Unsatisfiable,
                    None => return ByteRange::Full,
                }
            };
            if start >= size {
                ByteRange::Unsatisfiable
            } else {
                ByteRange::Part {
                    start,
                    end: end.min(size - 1),
                }
            }
        }
    }
}

/// `attachment` or `inline`, with the name twice: `filename="…"` in plain ASCII
/// for old clients (anything else, and quotes, backslashes and `%`, become `_`)
/// and `filename*=UTF-8''…` percent-encoded (RFC 6266, RFC 8187) for the rest.
pub fn content_disposition(kind: &str, name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && !matches!(c, '"' | '\\' | '%') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        // RFC 8187 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~"
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let value = format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    // Only visible ASCII and spaces went into `value`.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Does `bytes` start with the signature of the image type `essence`?
pub fn looks_like(essence: &str, bytes: &[u8]) -> bool {
    match essence {
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        "image/webp" => bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str, size: u64) -> ByteRange {
        byte_range(Some(&HeaderValue::from_str(value).unwrap()), size)
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        use ByteRange::*;
        assert_eq!(range("bytes=0-9", 100), Part { start: 0, end: 9 });
        assert_eq!(range("bytes=90-200", 100), Part { start: 90, end: 99 });
        assert_eq!(range("bytes=10-", 100), Part { start: 10, end: 99 });
        assert_eq!(range("bytes=-10", 100), Part { start: 90, end: 99 });
        assert_eq!(range("bytes=-1000", 100), Part { start: 0, end: 99 });
        assert_eq!(range("Bytes=0-0", 1), Part { start: 0, end: 0 });
        assert_eq!(range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(range("bytes=5-4", 100), Unsatisfiable);
        assert_eq!(range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(range("bytes=-5", 0), Unsatisfiable);
        assert_eq!(range("bytes=99999999999999999999999-", 100), Unsatisfiable);
        assert_eq!(
            range("bytes=0-99999999999999999999999", 100),
            Part { start: 0, end: 99 }
        );
        assert_eq!(range("bytes=0-1,5-6", 100), Full);
        assert_eq!(range("items=0-1", 100), Full);
        assert_eq!(range("bytes=a-b", 100), Full);
        assert_eq!(range("bytes=+1-2", 100), Full);
        assert_eq!(range("bytes=", 100), Full);
        assert_eq!(byte_range(None, 100), Full);
    }

    #[test]
    fn names_are_made_safe() {
        assert_eq!(file_name("report.pdf").unwrap(), "report.pdf");
        assert_eq!(file_name("../../etc/passwd").unwrap(), ".._.._etc_passwd");
        assert_eq!(file_name("a\\b\nc\u{0}").unwrap(), "a_b_c_");
        assert_eq!(
            file_name("invoice\u{202E}fdp.exe").unwrap(),
            "invoicefdp.exe"
        );
        assert_eq!(file_name("  run.exe. . ").unwrap(), "run.exe");
        assert_eq!(file_name("Grüße 📎.txt").unwrap(), "Grüße 📎.txt");
        assert!(file_name("").is_err());
        assert!(file_name(" . ").is_err());
        assert!(file_name("..").is_err());
        assert!(file_name(&"x".repeat(256)).is_err());
        assert!(file_name(&"é".repeat(255)).is_ok());
    }

    #[test]
    fn media_types_are_checked() {
        let parse = |s: &str| media_type(Some(&HeaderValue::from_str(s).unwrap()));
        assert_eq!(media_type(None).unwrap(), "application/octet-stream");
        assert_eq!(
            parse("Text/Plain; charset=UTF-8").unwrap(),
            "text/plain; charset=UTF-8"
        );
        assert_eq!(parse("image/png").unwrap(), "image/png");
        assert!(parse("png").is_err());
        assert!(parse("text/").is_err());
        assert!(parse("te xt/plain").is_err());
        assert!(parse(&format!("a/{}", "b".repeat(300))).is_err());
    }

    #[test]
    fn dispositions_carry_a_safe_and_an_exact_name() {
        let value = content_disposition("attachment", "a \"quoted\"\r\nname %41 Grüße.txt");
        assert_eq!(
            value.to_str().unwrap(),
            "attachment; filename=\"a _quoted___name _41 Gr__e.txt\"; \
             filename*=UTF-8''a%20%22quoted%22%0D%0Aname%20%2541%20Gr%C3%BC%C3%9Fe.txt"
        );
    }
}
