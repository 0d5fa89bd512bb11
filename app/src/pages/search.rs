//! `/search?q=`: messages and file names across all of the person's chats,
//! newest first, each with its chat, sender and time and the match marked; a
//! result opens its chat at that message.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, ApiFailure};
use crate::components::{ErrorNotice, Frame, Loading, Section, lower, short_time};
use crate::types::{ChatKind, SearchHit};

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let typed = RwSignal::new(String::new());
    Effect::new(move |_| typed.set(q.get()));
    let navigate = use_navigate();
    let hits = RwSignal::new(Vec::<SearchHit>::new());
    let next = RwSignal::new(None::<String>);
    let state = RwSignal::new(None::<Result<(), ApiFailure>>);
    let fetch = move |text: String, before: Option<String>| {
        leptos::task::spawn_local(async move {
            let answer = api::search(&text, before.as_deref()).await;
            // A newer search was started meanwhile: this answer is stale.
            if q.get_untracked().trim() != text {
                return;
            }
            match answer {
                Ok(found) => {
                    hits.update(|h| h.extend(found.hits));
                    next.set(found.next);
                    state.set(Some(Ok(())));
                }
                Err(failure) => state.set(Some(Err(failure))),
            }
        });
    };
    Effect::new(move |_| {
        let text = q.get().trim().to_owned();
        hits.set(Vec::new());
        next.set(None);
        state.set(None);
        if !text.is_empty() {
            fetch(text, None);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = typed.get_untracked();
        let encoded = api::encode_query(&[("q", text.trim().to_owned())]);
        navigate(&format!("/search?{encoded}"), Default::default());
    };
    view! {
        <Title text="Search" />
        <Frame section=Section::Search>
            <main id="main" tabindex="-1" class="content">
                <div class="page-head">
                    <h1>"Search"</h1>
                    <p class="muted">"Messages and file names in all your chats."</p>
                </div>
                // A plain GET form: it works before the page's script has loaded.
                <form class="inline-form card search-form" role="search" action="/search" method="get" on:submit=submit>
                    <div class="field">
                        <label for="search-everywhere">"Search for"</label>
                        <input
                            id="search-everywhere"
                            name="q"
                            type="search"
                            required
                            maxlength="100"
                            autofocus
                            prop:value=move || typed.get()
                            on:input=move |ev| typed.set(event_target_value(&ev))
                        />
                    </div>
                    <button class="button primary" type="submit">"Search"</button>
                </form>
                {move || {
                    let text = q.get().trim().to_owned();
                    if text.is_empty() {
                        return view! { <p class="empty">"Type a word, a name or part of a file name."</p> }.into_any();
                    }
                    match state.get() {
                        None => view! { <Loading what="results" /> }.into_any(),
                        Some(Err(failure)) => view! { <ErrorNotice failure /> }.into_any(),
                        Some(Ok(())) if hits.with(Vec::is_empty) => view! {
                            <p class="empty">{format!("Nothing in your chats matches “{text}”.")}</p>
                        }.into_any(),
                        Some(Ok(())) => view! { <Results hits text=text.clone() /> }.into_any(),
                    }
                }}
                <Show when=move || next.with(Option::is_some)>
                    <button
                        class="button subtle"
                        type="button"
                        on:click=move |_| fetch(q.get_untracked().trim().to_owned(), next.get_untracked())
                    >
                        "More results"
                    </button>
                </Show>
            </main>
        </Frame>
    }
}

#[component]
fn Results(hits: RwSignal<Vec<SearchHit>>, text: String) -> impl IntoView {
    let text = StoredValue::new(text);
    view! {
        <ol class="search-results" aria-label="Search results">
            {move || {
                hits.get()
                    .into_iter()
                    .map(|hit| {
                        let href = format!("/chats/{}?at={}", hit.chat_id, hit.message.seq);
                        let place = match hit.chat_kind {
                            ChatKind::Group => hit.chat_title.clone(),
                            ChatKind::Direct => format!("With {}", hit.chat_title),
                        };
                        let found = match &hit.message.file {
                            Some(file) if !found_in(&hit.message.body, &text.get_value()) => {
                                view! { <span class="search-file">"File: " {marked(&file.name, &text.get_value())}</span> }.into_any()
                            }
                            _ => view! { <span>{marked(&snippet(&hit.message.body, &text.get_value()), &text.get_value())}</span> }.into_any(),
                        };
                        view! {
                            <li>
                                <a href=href class="search-hit">
                                    <span class="search-hit-top">
                                        <strong>{place}</strong>
                                        <time class="muted">{short_time(hit.message.created_at)}</time>
                                    </span>
                                    <span class="search-hit-text">
                                        <span class="muted">{hit.sender_name.clone()} ": "</span>
                                        {found}
                                    </span>
                                </a>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ol>
    }
}

fn found_in(body: &str, text: &str) -> bool {
    lower(body).contains(&lower(text.trim()))
}

/// Up to about 160 characters of `body` around the first match.
fn snippet(body: &str, text: &str) -> String {
    const AROUND: usize = 60;
    let chars: Vec<char> = body.chars().collect();
    if chars.len() <= 160 {
        return body.to_owned();
    }
    let at = match_at(body, text).map_or(0, |(start, _)| body[..start].chars().count());
    let from = at.saturating_sub(AROUND);
    let to = (at + 100).min(chars.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.extend(&chars[from..to]);
    if to < chars.len() {
        out.push('…');
    }
    out
}

/// Where `text` first occurs in `body`, any case, as a byte range of `body`.
/// Folding that changes a text's length (rare letters) finds no range: the
/// result is then shown unmarked.
fn match_at(body: &str, text: &str) -> Option<(usize, usize)> {
    let (body_folded, text_folded) = (lower(body), lower(text.trim()));
    if text_folded.is_empty() || body_folded.len() != body.len() {
        return None;
    }
    let start = body_folded.find(&text_folded)?;
    let end = start + text_folded.len();
    (body.is_char_boundary(start) && body.is_char_boundary(end)).then_some((start, end))
}

/// `body` with the first match of `text` in a `<mark>`.
fn marked(body: &str, text: &str) -> AnyView {
    match match_at(body, text) {
        Some((start, end)) => view! {
            {body[..start].to_owned()}
            <mark>{body[start..end].to_owned()}</mark>
            {body[end..].to_owned()}
        }
        .into_any(),
        None => body.to_owned().into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::{match_at, snippet};

    #[test]
    fn the_match_is_found_in_any_case() {
        assert_eq!(match_at("The LAUNCH plan", "launch"), Some((4, 10)));
        assert_eq!(match_at("Résumé ready", "RÉSUMÉ"), Some((0, 8)));
        assert_eq!(match_at("nothing here", "launch"), None);
        assert_eq!(match_at("anything", "  "), None);
    }

    #[test]
    fn a_long_message_is_cut_around_the_match() {
        let body = format!("{} launch {}", "a".repeat(300), "b".repeat(300));
        let cut = snippet(&body, "launch");
        assert!(cut.starts_with('…') && cut.ends_with('…'), "{cut}");
        assert!(cut.contains("launch"));
        assert!(cut.chars().count() <= 162);
        assert_eq!(snippet("short", "x"), "short");
    }
}
