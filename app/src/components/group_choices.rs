//! Checkboxes for the groups a user is in. With many groups, a filter finds
//! them by name; groups already chosen always show.

use leptos::prelude::*;

use crate::components::lower;
use crate::types::GroupSummary;

/// Above this many groups the list gets a filter.
const FILTER_FROM: usize = 8;

#[component]
pub fn GroupChoices(
    /// The groups one may be put in (no built-in ones).
    groups: Vec<GroupSummary>,
    chosen: RwSignal<Vec<i64>>,
    /// Names the filter's input.
    id: &'static str,
) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let many = groups.len() > FILTER_FROM;
    let shown = move |group: &GroupSummary| {
        let needle = lower(filter.get().trim());
        needle.is_empty()
            || lower(&group.name).contains(&needle)
            || chosen.with(|c| c.contains(&group.id))
    };
    let boxes = groups
        .into_iter()
        .map(|group| {
            let id = group.id;
            let name = group.name.clone();
            view! {
                <label class="checkbox" hidden=move || !shown(&group)>
                    <input
                        type="checkbox"
                        prop:checked=move || chosen.with(|c| c.contains(&id))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            chosen.update(|c| {
                                c.retain(|g| *g != id);
                                if on {
                                    c.push(id);
                                }
                            });
                        }
                    />
                    <span>{name}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        {many.then(|| view! {
            <div class="field group-filter">
                <label for=id>"Find a group"</label>
                <input id=id type="search" placeholder="Group name" bind:value=filter />
            </div>
        })}
        {boxes}
    }
}
