//! Message text as people expect it: plain text (never HTML), with web links
//! clickable, and times in the reader's own time zone.

use leptos::prelude::*;

use crate::types::{CausewayId, mentions};

/// A piece of a message: text, or a link to show as itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Splits `text` into plain text and `http(s)://` links. A link ends at white
/// space; trailing punctuation that usually closes a sentence is left out of it.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find_link(rest) {
        let tail = &rest[start..];
        let mut end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        while end > 0 && tail[..end].ends_with(['.', ',', ';', ':', '!', '?', ')', '"', '\'']) {
            end -= 1;
        }
        let link = &tail[..end];
        if link.len() <= "https://".len() {
            // A bare scheme is text.
            let skip = start + tail.find("//").map_or(1, |i| i + 2);
            out.push(Piece::Text(&rest[..skip]));
            rest = &rest[skip..];
            continue;
        }
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        out.push(Piece::Link(link));
        rest = &tail[end..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

fn find_link(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    [lower.find("https://"), lower.find("http://")]
        .into_iter()
        .flatten()
        .min()
}

/// The people a chat's messages may mention, for showing each mention as the
/// person's name (provided by the open chat).
#[derive(Debug, Clone, Copy)]
pub struct MentionNames {
    /// Member IDs and names.
    pub people: Signal<Vec<(CausewayId, String)>>,
    pub me: Signal<Option<CausewayId>>,
}

/// A message body: text nodes, links, and mentions highlighted (by name when
/// the person is in the chat); line breaks kept by CSS.
#[component]
pub fn RichText(#[prop(into)] text: String) -> impl IntoView {
    let names = use_context::<MentionNames>();
    let mention = move |at: &str, who: CausewayId| {
        let name = names.and_then(|n| {
            n.people.with_untracked(|p| {
                p.iter()
                    .find(|(id, _)| *id == who)
                    .map(|(_, name)| name.clone())
            })
        });
        let me = names.is_some_and(|n| n.me.with_untracked(|me| me.as_ref() == Some(&who)));
        let shown = name.map_or_else(|| at.to_owned(), |name| format!("@{name}"));
        view! { <span class="mention" class:me=me title=who.to_string()>{shown}</span> }.into_any()
    };
    let views = pieces(&text)
        .into_iter()
        .flat_map(|piece| match piece {
            Piece::Text(t) => {
                let mut out = Vec::new();
                let mut from = 0;
                for m in mentions(t) {
                    if m.start > from {
                        out.push(t[from..m.start].to_owned().into_any());
                    }
                    out.push(mention(&t[m.start..m.end], m.who));
                    from = m.end;
                }
                if from < t.len() {
                    out.push(t[from..].to_owned().into_any());
                }
                out
            }
            Piece::Link(url) => vec![view! {
                <a href=url.to_owned() target="_blank" rel="noopener noreferrer nofollow">{url.to_owned()}</a>
            }
            .into_any()],
        })
        .collect_view();
    view! { <span class="rich-text">{views}</span> }
}

/// `text` in lower case, by the browser's Unicode tables in the browser (the
/// client then carries none of its own) and by Rust's on the server.
pub fn lower(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        js_sys::JsString::from(text).to_lower_case().into()
    }
    #[cfg(not(feature = "hydrate"))]
    text.to_lowercase()
}

/// `text` in upper case, as [`lower`].
pub fn upper(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        js_sys::JsString::from(text).to_upper_case().into()
    }
    #[cfg(not(feature = "hydrate"))]
    text.to_uppercase()
}

/// Unix milliseconds as the reader's local time: `14:05` today, else the date too.
pub fn short_time(ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        let now = js_sys::Date::new_0();
        if date.to_date_string() == now.to_date_string() {
            format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
        } else {
            local_time(ms)
        }
    }
    #[cfg(not(feature = "hydrate"))]
    super::format_time(ms)
}

/// Unix milliseconds as the reader's local date and time, `2026-11-28 14:05`
/// (UTC, said so, where there is no browser).
pub fn local_time(ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        format!(
            "{}-{:02}-{:02} {:02}:{:02}",
            date.get_full_year(),
            date.get_month() + 1,
            date.get_date(),
            date.get_hours(),
            date.get_minutes()
        )
    }
    #[cfg(not(feature = "hydrate"))]
    super::format_time(ms)
}

/// The reader's local calendar day of Unix milliseconds, as `yyyymmdd`.
pub fn day_of(ms: i64) -> i64 {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        i64::from(date.get_full_year()) * 10_000
            + i64::from(date.get_month() + 1) * 100
            + i64::from(date.get_date())
    }
    #[cfg(not(feature = "hydrate"))]
    ms.div_euclid(86_400_000)
}

/// A day as a date separator names it: "Today", "Yesterday", else "Monday,
/// 30 November 2026" (the reader's local calendar).
pub fn day_label(ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        const WEEKDAYS: [&str; 7] = [
            "Sunday",
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
        ];
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let now = js_sys::Date::now() as i64;
        let day = day_of(ms);
        if day == day_of(now) {
            return "Today".to_owned();
        }
        if day == day_of(now - 86_400_000) {
            return "Yesterday".to_owned();
        }
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        format!(
            "{}, {} {} {}",
            WEEKDAYS[date.get_day() as usize % 7],
            date.get_date(),
            MONTHS[date.get_month() as usize % 12],
            date.get_full_year()
        )
    }
    #[cfg(not(feature = "hydrate"))]
    super::format_time(ms)
}

/// A size in bytes as people read it: `820 B`, `14.2 KB`, `3.1 MB`.
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Integer tenths, rounded to nearest (in 64 bits: 128-bit arithmetic
    // and its formatting would weigh on the first load).
    let bytes = bytes.unsigned_abs();
    let mut scale: u64 = 1024;
    let mut unit = 0;
    while bytes / 1024 >= scale && unit < UNITS.len() - 1 {
        scale *= 1024;
        unit += 1;
    }
    let tenths = (bytes / scale) * 10 + ((bytes % scale) * 10 + scale / 2) / scale;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::Piece::{Link, Text};
    use super::*;

    #[test]
    fn links_are_found_and_sentences_keep_their_punctuation() {
        assert_eq!(pieces("plain"), vec![Text("plain")]);
        assert_eq!(
            pieces("See https://example.com/a?b=1, then http://x.org."),
            vec![
                Text("See "),
                Link("https://example.com/a?b=1"),
                Text(", then "),
                Link("http://x.org"),
                Text("."),
            ]
        );
        assert_eq!(
            pieces("(HTTPS://Example.com)"),
            vec![Text("("), Link("HTTPS://Example.com"), Text(")")]
        );
        assert_eq!(
            pieces("just https:// and"),
            vec![Text("just https://"), Text(" and")]
        );
        assert_eq!(
            pieces("<script>alert(1)</script>"),
            vec![Text("<script>alert(1)</script>")]
        );
        assert_eq!(
            pieces("javascript:alert(1)"),
            vec![Text("javascript:alert(1)")]
        );
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(820), "820 B");
        assert_eq!(human_size(14_540), "14.2 KB");
        assert_eq!(human_size(3_250_000), "3.1 MB");
        assert_eq!(human_size(1024), "1.0 KB");
        assert_eq!(human_size(1_048_575), "1024.0 KB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5.0 GB");
        assert_eq!(human_size(i64::MAX), "8388608.0 TB");
    }
}
