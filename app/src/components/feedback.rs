//! Small pieces for loading, errors, times and hydration.

use leptos::prelude::*;

use crate::api::ApiFailure;

/// An error from the server, as people read it.
#[component]
pub fn ErrorNotice(failure: ApiFailure) -> impl IntoView {
    view! { <div class="notice error" role="alert">{failure.message}</div> }
}

/// A quiet line while something loads.
#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! { <p class="muted" role="status">{format!("Loading {what}…")}</p> }
}

/// Asks before what cannot be undone, in the page: an alert dialog with the
/// question, the action and the way back. The way back has the focus, so a
/// keyboard user lands in the question and Enter does no harm.
#[component]
pub fn Confirm(
    #[prop(into)] question: String,
    /// The button that does it, e.g. "Yes, delete".
    yes: &'static str,
    /// The button that backs out, e.g. "Keep it".
    no: &'static str,
    on_yes: Callback<()>,
    on_no: Callback<()>,
    /// Small buttons, for a question inside a message or a side panel.
    #[prop(optional)]
    small: bool,
) -> impl IntoView {
    let back = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = back.get() {
            let _ = button.focus();
        }
    });
    let size = if small { " small" } else { "" };
    let label = question.clone();
    view! {
        <div class="notice warn confirm" role="alertdialog" aria-label=label>
            <p>{question}</p>
            <div class="actions">
                <button class=format!("button danger{size}") type="button" on:click=move |_| on_yes.run(())>{yes}</button>
                <button class=format!("button subtle{size}") type="button" node_ref=back on:click=move |_| on_no.run(())>{no}</button>
            </div>
        </div>
    }
}

/// The outcome of a save: an error, or a short confirmation.
pub fn outcome<T: Clone + Send + Sync + 'static>(
    value: Option<Result<T, ApiFailure>>,
    done: &'static str,
) -> AnyView {
    match value {
        Some(Err(failure)) => view! { <ErrorNotice failure /> }.into_any(),
        Some(Ok(_)) => view! { <p class="notice success" role="status">{done}</p> }.into_any(),
        None => ().into_any(),
    }
}

/// Unix milliseconds as `2026-11-28 23:05 UTC`.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// False while the page is the server's HTML, true once it has hydrated (effects run
/// only in the browser). Buttons whose handlers are Rust stay disabled until then, so
/// an early click is never silently lost.
pub fn hydrated() -> Signal<bool> {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    hydrated.into()
}

/// What the person typed into text field `id` of the server's HTML before the
/// page hydrated: the field's state starts with it, so the first render does
/// not erase it. Empty on the server, and for a field made after hydration
/// (another chat's box, opened later, starts empty).
pub fn typed_before_hydration(id: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let hydrating =
            Owner::current_shared_context().is_some_and(|context| context.during_hydration());
        let field = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.get_element_by_id(id))
            .and_then(|element| element.dyn_into::<web_sys::HtmlTextAreaElement>().ok());
        if hydrating && let Some(field) = field {
            return field.value();
        }
    }
    let _ = id;
    String::new()
}

#[cfg(test)]
mod tests {
    use super::format_time;

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(1_795_907_100_000), "2026-11-28 23:05 UTC");
        assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00 UTC");
    }
}
