//! The frame around every signed-in page: the top bar with navigation and the
//! person's name, and for control-panel pages the panel's own navigation.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};

use crate::api::{self, ApiFailure};
use crate::components::{Avatar, Brand, hydrated};
use crate::inbox::Inbox;
use crate::live::Live;
use crate::notify::Notifier;
use crate::types::{CurrentUser, ErrorCode};

/// Which part of the app a page belongs to, for the highlighted navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Chats,
    Search,
    Contacts,
    Account,
    Admin,
}

/// The signed-in user, for pages inside the frame.
#[derive(Clone, Copy)]
pub struct Me(pub LocalResource<Result<CurrentUser, ApiFailure>>);

#[component]
pub fn Frame(section: Section, children: Children) -> impl IntoView {
    let me = LocalResource::new(api::me);
    provide_context(Me(me));
    let navigate = use_navigate();
    let live = Live::get();
    // The tab's realtime connection lives as long as the tab; signed-in pages open it.
    Effect::new(move |_| live.start());
    let my_id = Signal::derive(move || me.get().and_then(Result::ok).map(|u| u.causeway_id));
    let inbox = Inbox::get();
    Effect::new(move |_| {
        if let Some(id) = my_id.get() {
            inbox.start(id);
        }
    });

    // A session that ended (expired, signed out elsewhere) sends the person back to sign in.
    Effect::new({
        let navigate = navigate.clone();
        move |_| {
            if let Some(Err(ApiFailure {
                code: ErrorCode::Unauthenticated,
                ..
            })) = me.get()
            {
                live.stop();
                inbox.stop();
                navigate("/login", Default::default());
            }
        }
    });

    let sign_out = Action::new_local(|_: &()| api::logout());
    // A click on the server-rendered button before hydration would do nothing, so
    // the button is enabled only once it works.
    let hydrated = hydrated();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            live.stop();
            inbox.stop();
            navigate("/login", Default::default());
        }
    });
    let is_admin = move || me.get().and_then(Result::ok).is_some_and(|u| u.is_admin);
    let current = move |s: Section| if s == section { Some("page") } else { None };

    view! {
        <div class="app-frame">
            <a class="skip-link" href="#main" on:click=skip_to_main>"Skip to content"</a>
            <header class="topbar">
                <a href="/" class="brand-link" aria-label="Causeway home">
                    <Brand />
                </a>
                <nav class="topnav" aria-label="Main">
                    <a href="/" aria-current=current(Section::Chats)>
                        "Chats"
                        {move || match inbox.unread() {
                            0 => None,
                            n => Some(view! {
                                <span class="nav-count" aria-label=format!("{n} unread")>
                                    {if n > 99 { "99+".to_owned() } else { n.to_string() }}
                                </span>
                            }),
                        }}
                    </a>
                    <a href="/search" aria-current=current(Section::Search)>"Search"</a>
                    <a href="/contacts" aria-current=current(Section::Contacts)>"Contacts"</a>
                    <a href="/account" aria-current=current(Section::Account)>"My account"</a>
                    <Show when=is_admin>
                        <a href="/admin/users" aria-current=current(Section::Admin)>"Control panel"</a>
                    </Show>
                </nav>
                <div class="topbar-user">
                    {move || {
                        me.get()
                            .and_then(Result::ok)
                            .map(|user| {
                                view! {
                                    <Avatar name=user.display_name.clone() url=user.avatar_url small=true />
                                    <span class="topbar-name">{user.display_name}</span>
                                }
                            })
                    }}
                    <button
                        class="button subtle"
                        type="button"
                        on:click=move |_| {
                            sign_out.dispatch(());
                        }
                        disabled=move || !hydrated.get() || sign_out.pending().get()
                    >
                        "Sign out"
                    </button>
                </div>
            </header>
            {move || {
                sign_out
                    .value()
                    .get()
                    .and_then(Result::err)
                    .map(|failure| view! { <div class="notice error banner" role="alert">{failure.message}</div> })
            }}
            <Show when=move || live.lost.get()>
                <div class="notice warn banner" role="status">
                    "The connection to the server was lost. Reconnecting… What you send meanwhile goes out when it is back."
                </div>
            </Show>
            <Show when=move || live.updated.get()>
                <UpdatedBar />
            </Show>
            <Notifier me=my_id />
            {children()}
        </div>
    }
}

/// Moves the focus to the page's main content (the router would otherwise
/// take the click as a navigation and leave the focus where it was).
fn skip_to_main(ev: leptos::ev::MouseEvent) {
    ev.prevent_default();
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(main) = document()
            .get_element_by_id("main")
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = main.focus();
        }
    }
}

/// Says that the server was upgraded under this tab and offers to load the
/// new client. Nothing is lost by waiting: the old client keeps working
/// against the server's stable API until the person chooses.
#[component]
fn UpdatedBar() -> impl IntoView {
    let reload = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    };
    view! {
        <div class="notice info banner update-bar" role="status">
            <span>"Causeway was updated."</span>
            <button class="button primary small" type="button" on:click=reload>
                "Reload"
            </button>
        </div>
    }
}

/// What the panel last saved, said in a notice that outlives the page's
/// reload after the save (the page is drawn anew from the server's answer);
/// it stays until the next save, the close button or another page.
#[derive(Clone, Copy)]
pub struct Saved(RwSignal<Option<String>>);

impl Saved {
    /// The panel page's notice (outside the panel, one nobody sees).
    pub fn here() -> Saved {
        use_context::<Saved>().unwrap_or_else(|| Saved(RwSignal::new(None)))
    }

    /// Says `what` was saved.
    pub fn say(self, what: impl Into<String>) {
        self.0.set(Some(what.into()));
    }
}

/// The control panel's own navigation, beside its pages.
#[component]
pub fn AdminLayout(children: Children) -> impl IntoView {
    let notice = RwSignal::new(None::<String>);
    provide_context(Saved(notice));
    let location = use_location();
    let current = move |prefix: &'static str| {
        let path = location.pathname.get();
        let here = if prefix == "/admin/users" {
            path == prefix || path.starts_with("/admin/users/")
        } else {
            path.starts_with(prefix)
        };
        here.then_some("page")
    };
    view! {
        <div class="admin-layout">
            <nav class="sidenav" aria-label="Control panel">
                <p class="sidenav-title">"Control panel"</p>
                <a href="/admin/users" aria-current=move || current("/admin/users")>"Users"</a>
                <a href="/admin/settings" class="sub" aria-current=move || current("/admin/settings")>
                    "Settings"
                </a>
                <a href="/admin/groups" aria-current=move || current("/admin/groups")>"Groups"</a>
                <a href="/admin/federation" aria-current=move || current("/admin/federation")>"Federation"</a>
                <a href="/admin/audit" aria-current=move || current("/admin/audit")>"Audit log"</a>
            </nav>
            <main id="main" tabindex="-1" class="content wide">{children()}</main>
            <div class="saved-notice" role="status" aria-live="polite">
                {move || notice.get().map(|text| view! {
                    <p class="notice success">
                        <span>{text}</span>
                        <button type="button" class="button subtle small" aria-label="Close the notice" on:click=move |_| notice.set(None)>"×"</button>
                    </p>
                })}
            </div>
        </div>
    }
}
