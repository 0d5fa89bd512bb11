use leptos::prelude::*;

/// Up to two initials of a name, for people without a photo.
pub fn initials(name: &str) -> String {
    super::upper(
        &name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect::<String>(),
    )
}

/// A person's photo, or their initials when they have none. Decorative: the name
/// always stands next to it.
#[component]
pub fn Avatar(
    #[prop(into)] name: String,
    url: Option<String>,
    #[prop(optional)] small: bool,
) -> impl IntoView {
    let class = if small { "avatar small" } else { "avatar" };
    match url {
        Some(url) => view! { <img class=class src=url alt="" /> }.into_any(),
        None => view! { <span class=class aria-hidden="true">{initials(&name)}</span> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_of_names() {
        assert_eq!(initials("Albert Moore (Guest)"), "AM");
        assert_eq!(initials("wolf"), "W");
        assert_eq!(initials("élodie öztürk"), "ÉÖ");
        assert_eq!(initials(""), "");
    }
}
