//! @mentions in message text. A mention is written with the person's full
//! Causeway ID — `@wolf@corp.example` — so it means the same on every server a
//! chat reaches; the composer's autocomplete writes it, and clients show the
//! person's name in its place. The server counts unread mentions with the same
//! parser, so what is highlighted is what is counted.

use super::CausewayId;

/// One mention: where it is in the text (byte range, `@` included) and whom
/// it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub start: usize,
    pub end: usize,
    pub who: CausewayId,
}

fn login_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
}

fn server_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | ':')
}

/// The mentions in `text`, in order. An `@` right after a letter or digit
/// (an email address) starts none; punctuation that ends a sentence is not
/// part of the server name.
pub fn mentions(text: &str) -> Vec<Mention> {
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let after_word = previous.is_some_and(|p| p.is_alphanumeric() || login_char(p));
        previous = Some(c);
        if c != '@' || after_word {
            continue;
        }
        let rest = &text[start + 1..];
        let login_len = rest.find(|c: char| !login_char(c)).unwrap_or(rest.len());
        if login_len == 0 || !rest[login_len..].starts_with('@') {
            continue;
        }
        let server_part = &rest[login_len + 1..];
        let mut server_len = server_part
            .find(|c: char| !server_char(c))
            .unwrap_or(server_part.len());
        while server_len > 0 && server_part[..server_len].ends_with(['.', '-', ':']) {
            server_len -= 1;
        }
        let end = start + 1 + login_len + 1 + server_len;
        let Ok(who) = CausewayId::parse(&text[start + 1..end]) else {
            continue;
        };
        found.push(Mention { start, end, who });
        // Continue after the mention.
        while chars.peek().is_some_and(|(i, _)| *i < end) {
            previous = chars.next().map(|(_, c)| c);
        }
    }
    found
}

/// Does `text` mention `who`?
pub fn mentions_of(text: &str, who: &CausewayId) -> bool {
    mentions(text).iter().any(|m| &m.who == who)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<String> {
        mentions(text)
            .into_iter()
            .map(|m| m.who.to_string())
            .collect()
    }

    #[test]
    fn full_ids_are_mentions() {
        assert_eq!(ids("@wolf@corp can you look?"), ["wolf@corp"]);
        assert_eq!(
            ids("ping @wolf@corp.example and @moore@guest:8443."),
            ["wolf@corp.example", "moore@guest:8443"]
        );
        let text = "hi @ann.lee@corp, see";
        let m = &mentions(text)[0];
        assert_eq!(&text[m.start..m.end], "@ann.lee@corp");
    }

    #[test]
    fn what_is_not_a_mention() {
        assert!(ids("mail bob@corp.example").is_empty(), "an address");
        assert!(ids("x@wolf@corp").is_empty(), "after a word");
        assert!(ids("@wolf alone").is_empty(), "no server");
        assert!(ids("@ @corp @wolf@ @@").is_empty());
        assert!(ids("@Wolf@Corp").is_empty(), "IDs are lower case");
    }

    #[test]
    fn a_mention_is_found_by_whom_it_names() {
        let wolf = CausewayId::parse("wolf@corp").unwrap();
        assert!(mentions_of("thanks @wolf@corp!", &wolf));
        assert!(!mentions_of("thanks @wolf@corpx", &wolf));
        assert!(!mentions_of("thanks @wolfgang@corp", &wolf));
    }
}
