//! The WebAssembly entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages other than the chats are lazy routes (their code comes in its own
    // module): hydration waits for the module of the page being shown.
    leptos::mount::hydrate_lazy(app::App);
}
