//! The HTML shell and the router.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::path;
use leptos_router::{Lazy, LazyRoute, lazy_route};

use crate::inbox::{Inbox, show_in_icon};
use crate::live::Live;
use crate::pages::admin::{
    AuditPage, FederationPage, GroupPage, GroupsPage, SettingsPage, UserPage, UsersPage,
};
use crate::pages::{
    AccountPage, ActiveCall, CallDock, ChatsPage, ContactsPage, LoginPage, NotFound, SearchPage,
};

/// The browser client the server found in its site folder: what the shell
/// links to, and the version an open tab compares with its own to know that
/// the server was upgraded under it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientBuild {
    /// The stylesheet's file name in `/pkg`: `causeway.<hash>.css`, or
    /// `causeway.css` for a build with plain names (`cargo leptos watch`).
    pub stylesheet: String,
    /// What every page loads.
    pub bundle: Bundle,
    /// For each lazy route (leptos's name for its view), the files of the
    /// modules it needs, without `.wasm`: a page that shows one has the
    /// browser fetch them along with the main module.
    pub lazy: std::collections::HashMap<String, Vec<String>>,
    /// Changes whenever any file of the build does; empty for a build with
    /// plain names.
    pub version: String,
}

/// The client's main files, names in `/pkg`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle {
    pub js: String,
    pub wasm: String,
    /// The JS module that fetches and links the lazy routes' modules, which
    /// `js` imports; empty if the build has none by a name the server knows.
    pub link: String,
}

/// The `<meta>` naming the client version a page was served with.
pub const CLIENT_VERSION_META: &str = "causeway-client";

/// The document around the app, rendered on the server.
pub fn shell(options: LeptosOptions, build: ClientBuild) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    #[cfg(feature = "ssr")]
    if !build.lazy.is_empty() {
        // leptos notes the lazy routes a page renders and adds a preload of
        // their modules to its head, from this list.
        provide_context(leptos::WasmSplitManifest(ArcStoredValue::new((
            "/pkg".to_owned(),
            build.lazy.clone(),
            build.bundle.link.clone(),
        ))));
    }
    let bundle = build.bundle;
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

/// Loads the client's JS module, its link module and wasm (all fetched at
/// once) and hydrates the page with them, as leptos's own `HydrationScripts`
/// does.
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
    let link = (!bundle.link.is_empty()).then(|| format!("/pkg/{}", bundle.link));
    view! {
        <link rel="modulepreload" href=js />
        {link.map(|link| view! { <link rel="modulepreload" href=link /> })}
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
    ActiveCall::provide();
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
            <CallDock />
            <FlatRoutes fallback=NotFound>
                <Route path=path!("/") view=ChatsPage />
                <Route path=path!("/chats/:id") view=ChatsPage />
                <Route path=path!("/contacts") view={Lazy::<ContactsRoute>::new()} />
                <Route path=path!("/search") view={Lazy::<SearchRoute>::new()} />
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} />
                <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} />
                <Route path=path!("/admin") view={Lazy::<UsersRoute>::new()} />
                <Route path=path!("/admin/users") view={Lazy::<UsersRoute>::new()} />
                <Route path=path!("/admin/users/:id") view={Lazy::<UserRoute>::new()} />
                <Route path=path!("/admin/settings") view={Lazy::<SettingsRoute>::new()} />
                <Route path=path!("/admin/groups") view={Lazy::<GroupsRoute>::new()} />
                <Route path=path!("/admin/groups/:id") view={Lazy::<GroupRoute>::new()} />
                <Route path=path!("/admin/federation") view={Lazy::<FederationRoute>::new()} />
                <Route path=path!("/admin/audit") view={Lazy::<AuditRoute>::new()} />
            </FlatRoutes>
        </Router>
    }
}

/// A page whose code the browser fetches the first time it shows it: the
/// chats are in the module every page loads, everything else is cut out of it
/// by site-build (ADR 058). The server renders these pages as any other, and
/// tells the browser to fetch a page's module along with the main one.
macro_rules! lazy_page {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_route: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

lazy_page! {
    ContactsRoute => ContactsPage,
    SearchRoute => SearchPage,
    LoginRoute => LoginPage,
    AccountRoute => AccountPage,
    UsersRoute => UsersPage,
    UserRoute => UserPage,
    SettingsRoute => SettingsPage,
    GroupsRoute => GroupsPage,
    GroupRoute => GroupPage,
    FederationRoute => FederationPage,
    AuditRoute => AuditPage,
}
