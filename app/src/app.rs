//! The HTML shell and the router.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::path;

use crate::inbox::{Inbox, show_in_icon};
use crate::live::Live;
#[cfg(feature = "panel")]
use crate::pages::AccountPage;
#[cfg(feature = "panel")]
use crate::pages::admin::{
    AuditPage, FederationPage, GroupPage, GroupsPage, SettingsPage, UserPage, UsersPage,
};
#[cfg(not(feature = "panel"))]
use crate::pages::panel_elsewhere::PanelElsewhere as AccountPage;
#[cfg(not(feature = "panel"))]
use crate::pages::panel_elsewhere::{
    PanelElsewhere as AuditPage, PanelElsewhere as FederationPage, PanelElsewhere as GroupPage,
    PanelElsewhere as GroupsPage, PanelElsewhere as SettingsPage, PanelElsewhere as UserPage,
    PanelElsewhere as UsersPage,
};
use crate::pages::{ChatsPage, ContactsPage, LoginPage, NotFound, SearchPage};

/// The browser client the server found in its site folder: what the shell
/// links to, and the version an open tab compares with its own to know that
/// the server was upgraded under it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientBuild {
    /// The stylesheet's file name in `/pkg`: `causeway.<hash>.css`, or
    /// `causeway.css` for a build with plain names (`cargo leptos watch`).
    pub stylesheet: String,
    /// What every page but the control panel's loads.
    pub chat: Bundle,
    /// What the control panel's pages and My account load (every page is in
    /// it).
    pub panel: Bundle,
    /// Changes whenever any file of the build does; empty for a build with
    /// plain names.
    pub version: String,
}

/// One bundle of the client: its JS module and its wasm, file names in `/pkg`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle {
    pub js: String,
    pub wasm: String,
}

/// The `<meta>` naming the client version a page was served with.
pub const CLIENT_VERSION_META: &str = "causeway-client";

/// The document around the app, rendered on the server.
pub fn shell(options: LeptosOptions, build: ClientBuild) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    #[cfg(feature = "ssr")]
    let in_panel = use_context::<http::request::Parts>()
        .is_some_and(|parts| crate::pages::in_panel_bundle(parts.uri.path()));
    #[cfg(not(feature = "ssr"))]
    let in_panel = false;
    let bundle = if in_panel { build.panel } else { build.chat };
    let stylesheet = format!("/pkg/{}", build.stylesheet);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <meta name=CLIENT_VERSION_META content=build.version />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link id="leptos" rel="stylesheet" href=stylesheet />
                <AutoReload options />
                <Hydration bundle />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Loads the bundle's JS module and wasm (both fetched at once) and hydrates
/// the page with it, as leptos's own `HydrationScripts` does for one bundle.
#[component]
fn Hydration(bundle: Bundle) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    let js = format!("/pkg/{}", bundle.js);
    let wasm = format!("/pkg/{}", bundle.wasm);
    // The names are the build's own (`causeway.<hex>.js`): nothing to escape.
    let script = format!(
        "import init, {{ hydrate }} from \"{js}\";\n\
         init({{ module_or_path: \"{wasm}\" }}).then(() => hydrate());"
    );
    view! {
        <link rel="modulepreload" href=js />
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="" />
        <script type="module" nonce=nonce>
            {script}
        </script>
    }
}

/// Sends the page's Content-Security-Policy: scripts only from this server, plus
/// the inline hydration script carrying this response's nonce (leptos_axum makes
/// a new one per request); WebAssembly may be compiled; nothing may frame the
/// page, and nothing else — styles, images, connections, forms — leaves this origin.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // `cargo leptos watch` (development) injects a live-reload script that talks
    // to a port of its own: only framing is refused there.
    if std::env::var_os("LEPTOS_WATCH").is_some() {
        response.insert_header(
            http::header::CONTENT_SECURITY_POLICY,
            http::HeaderValue::from_static("frame-ancestors 'none'"),
        );
        return;
    }
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let live = Live::provide();
    let inbox = Inbox::provide(live);
    show_in_icon(inbox);
    // The unread count leads the tab title on every page, as "(3) Chats · Causeway".
    let title = move |title: String| {
        let name = if title.is_empty() {
            "Causeway".to_owned()
        } else {
            format!("{title} · Causeway")
        };
        match inbox.unread() {
            0 => name,
            n => format!("({n}) {name}"),
        }
    };
    view! {
        <Title formatter=title />
        <Router>
            <FlatRoutes fallback=NotFound>
                <Route path=path!("/") view=ChatsPage />
                <Route path=path!("/chats/:id") view=ChatsPage />
                <Route path=path!("/contacts") view=ContactsPage />
                <Route path=path!("/search") view=SearchPage />
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/account") view=AccountPage />
                <Route path=path!("/admin") view=UsersPage />
                <Route path=path!("/admin/users") view=UsersPage />
                <Route path=path!("/admin/users/:id") view=UserPage />
                <Route path=path!("/admin/settings") view=SettingsPage />
                <Route path=path!("/admin/groups") view=GroupsPage />
                <Route path=path!("/admin/groups/:id") view=GroupPage />
                <Route path=path!("/admin/federation") view=FederationPage />
                <Route path=path!("/admin/audit") view=AuditPage />
            </FlatRoutes>
        </Router>
    }
}
