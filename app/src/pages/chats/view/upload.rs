//! Files into a chat: chosen, dropped or pasted, a file uploads at once and
//! waits in the composer; Send sends it with what is typed as its caption. Send
//! pressed while it still uploads sends it the moment the upload is done.

use leptos::prelude::*;

use super::{ChatState, new_client_id};
use crate::components::human_size;
use crate::pages::chats::state::Pending;
use crate::types::FileInfo;

/// A file being uploaded.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Uploading {
    name: String,
    size: i64,
    /// 0 to 1.
    progress: f64,
}

/// A share (0 to 1) as whole percent.
fn percent(share: f64) -> u32 {
    (share.clamp(0.0, 1.0) * 100.0 + 0.5) as u32
}

/// The composer's file: uploading, or uploaded and waiting for Send.
#[derive(Clone, Copy)]
pub(super) struct Uploader {
    state: ChatState,
    pub(super) current: RwSignal<Option<Uploading>>,
    /// Uploaded, waiting for Send.
    ready: RwSignal<Option<FileInfo>>,
    /// Send was pressed during the upload: the caption and the reply, sent
    /// when it is done.
    queued: RwSignal<Option<(String, Option<i64>)>>,
    #[cfg(feature = "hydrate")]
    handle: StoredValue<Option<std::rc::Rc<crate::api::Upload>>, LocalStorage>,
}

impl Uploader {
    pub(super) fn new(state: ChatState) -> Self {
        Self {
            state,
            current: RwSignal::new(None),
            ready: RwSignal::new(None),
            queued: RwSignal::new(None),
            #[cfg(feature = "hydrate")]
            handle: StoredValue::new_local(None),
        }
    }

    /// Is there a file in the composer (uploading or uploaded)?
    pub(super) fn holds_file(self) -> bool {
        self.current.with(Option::is_some) || self.ready.with(Option::is_some)
    }

    /// Sends the composer's file with `body` as its caption: now if it is
    /// uploaded, else when it is. `false` when there is no file.
    pub(super) fn send_with(self, body: String, reply_to: Option<i64>) -> bool {
        if self.current.with_untracked(Option::is_some) {
            self.queued.set(Some((body, reply_to)));
            return true;
        }
        let Some(file) = self.ready.get_untracked() else {
            return false;
        };
        self.ready.set(None);
        self.state.send(Pending {
            client_id: new_client_id(),
            body,
            reply_to,
            file: Some(file),
            failed: None,
            waiting: false,
        });
        true
    }

    #[cfg(feature = "hydrate")]
    fn start(self, file: web_sys::File) {
        let state = self.state;
        if self.holds_file() {
            state.error.set(Some(
                "One file at a time: send or remove the one in the message box first.".to_owned(),
            ));
            return;
        }
        self.current.set(Some(Uploading {
            name: file.name(),
            size: file.size() as i64,
            progress: 0.0,
        }));
        let Self {
            current,
            ready,
            queued,
            handle,
            ..
        } = self;
        let started = crate::api::Upload::start(
            state.id,
            &file,
            move |p| {
                current.update(|c| {
                    if let Some(c) = c {
                        c.progress = p;
                    }
                })
            },
            move |result| {
                current.set(None);
                handle.set_value(None);
                match result {
                    Ok(info) => {
                        ready.set(Some(info));
                        if let Some((body, reply_to)) = queued.get_untracked() {
                            queued.set(None);
                            self.send_with(body, reply_to);
                        }
                    }
                    Err(failure) => {
                        queued.set(None);
                        state.error.set(Some(failure.message));
                    }
                }
            },
        );
        match started {
            Ok(upload) => handle.set_value(Some(std::rc::Rc::new(upload))),
            Err(failure) => {
                current.set(None);
                state.error.set(Some(failure.message));
            }
        }
    }

    /// Cancels the upload, or takes the uploaded file out of the composer.
    fn remove(self) {
        self.ready.set(None);
        self.queued.set(None);
        #[cfg(feature = "hydrate")]
        if let Some(upload) = self.handle.get_value() {
            upload.cancel();
        }
    }

    pub(super) fn send_chosen(self, ev: &leptos::ev::Event) {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                self.start(file);
            }
            input.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    }

    pub(super) fn send_dropped(self, ev: &leptos::ev::DragEvent) {
        #[cfg(feature = "hydrate")]
        self.start_first(ev.data_transfer());
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    }

    /// A file pasted into the message box (a screenshot, an image copied from
    /// elsewhere) is taken like a chosen one; pasted text stays text.
    pub(super) fn take_pasted(self, ev: &leptos::ev::ClipboardEvent) -> bool {
        #[cfg(feature = "hydrate")]
        return self.start_first(ev.clipboard_data());
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = ev;
            false
        }
    }

    /// Starts the first file a drop or a paste carries; `false` when it
    /// carries none.
    #[cfg(feature = "hydrate")]
    fn start_first(self, carried: Option<web_sys::DataTransfer>) -> bool {
        match carried.and_then(|d| d.files()).and_then(|f| f.get(0)) {
            Some(file) => {
                self.start(file);
                true
            }
            None => false,
        }
    }
}

/// The composer's file, above the message box: its upload's progress, or
/// that it waits for Send; either way a way to take it out.
#[component]
pub(super) fn Staged(upload: Uploader) -> impl IntoView {
    let uploading = move || {
        upload.current.get().map(|u| {
            let queued = upload.queued.with(Option::is_some);
            view! {
                <div class="staged-file upload-progress">
                    <label for="upload-bar">{format!("Uploading {} ({})", u.name, human_size(u.size))}</label>
                    <progress id="upload-bar" max="100" value=percent(u.progress)>{format!("{}%", percent(u.progress))}</progress>
                    <span class="muted">{if queued { "Sends when the upload is done." } else { "" }}</span>
                    <button type="button" class="button subtle small" on:click=move |_| upload.remove()>"Cancel upload"</button>
                </div>
            }
        })
    };
    let ready = move || {
        upload.ready.get().map(|file| {
            let label = format!("Remove {} from the message", file.name);
            view! {
                <div class="staged-file" role="group" aria-label="File to send">
                    <span><strong>{file.name.clone()}</strong> " " <span class="muted">{human_size(file.size)}</span></span>
                    <span class="muted">"Type a caption if you like, then Send."</span>
                    <button type="button" class="button subtle small" aria-label=label on:click=move |_| upload.remove()>"Remove"</button>
                </div>
            }
        })
    };
    view! { {uploading} {ready} }
}
