//! A call in a chat, in the browser: the tab's one `RTCPeerConnection` to this
//! server's forwarding unit (ADR 057), its microphone and camera, and what the
//! others send. Signalling goes over the tab's socket: the tab offers what it
//! sends ([`ClientFrame::CallOffer`](crate::types::ClientFrame::CallOffer)), the
//! server answers, and offers again
//! whenever someone's tracks come
//! ([`Push::CallOffer`](crate::types::Push::CallOffer)), which the tab answers.
//!
//! The panel shows in the call dock above every page (`CallDock` in
//! `chats/mod.rs`), with the people in the call by the roster the server
//! pushes to the chat's members ([`Push::Call`](crate::types::Push::Call));
//! a direct call rings for the other person there ([`Ringing`]). Its code
//! comes in a module of its own when a call starts or rings, out of the chat
//! page's first load.

use leptos::prelude::*;

use crate::api;
use crate::inbox::Inbox;
use crate::live::Live;
#[cfg(feature = "hydrate")]
use crate::types::Push;
use crate::types::{CallPerson, CausewayId, ChatKind};

/// Where the tab's call stands (the server renders it joining).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Stage {
    /// Asking for the microphone and camera, then for a place in the call.
    Joining,
    /// In the call.
    Joined,
    /// It could not start, or it ended on the server's side: why.
    Failed(String),
}

/// How long a direct call rings before the caller's tab gives up.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const RING_FOR_MS: i32 = 45_000;

/// How long a direct call waits for the other side to come back when their
/// tab went away without hanging up (a reload rejoins within seconds).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const REJOIN_WAIT_MS: i32 = 30_000;

/// The call of chat `chat_id`, over the page while it runs: the people's
/// video with their names, Mute microphone, Turn camera off and Leave call.
/// `on_end` runs when the person leaves (or closes a call that ended).
#[component]
pub fn CallPanel(chat_id: i64, title: String, on_end: Callback<()>) -> impl IntoView {
    let live = Live::get();
    let inbox = Inbox::get();
    let stage = RwSignal::new(Stage::Joining);
    let muted = RwSignal::new(false);
    let camera_off = RwSignal::new(false);
    let has_video = RwSignal::new(false);
    // The stream this tab's tracks reach the others in (the server says).
    let mine = RwSignal::new(None::<String>);
    // The others' streams that have come down so far.
    let arrived = RwSignal::new(Vec::<String>::new());
    let local_video = NodeRef::<leptos::html::Video>::new();
    let direct = inbox
        .chat(chat_id)
        .is_some_and(|chat| chat.kind == ChatKind::Direct);
    let detail = LocalResource::new(move || api::chat(chat_id));
    // Someone else has been in this (direct) call.
    let met = RwSignal::new(false);
    // Who else is in the call, by the roster the server pushes.
    let others = Memo::new(move |_| {
        let Some(mine) = mine.get() else {
            return Vec::new();
        };
        inbox
            .call(chat_id)
            .map(|call| {
                call.people
                    .into_iter()
                    .filter(|p| p.stream != mine)
                    .collect::<Vec<CallPerson>>()
            })
            .unwrap_or_default()
    });
    let name_of = move |member: &CausewayId| {
        detail
            .get()
            .and_then(Result::ok)
            .and_then(|d| {
                d.members
                    .into_iter()
                    .find(|m| &m.causeway_id == member)
                    .map(|m| m.display_name)
            })
            .unwrap_or_else(|| member.login.to_string())
    };

    #[cfg(feature = "hydrate")]
    {
        let events = imp::Events {
            stage,
            mine,
            arrived,
            has_video,
            local_video,
        };
        imp::start(live, chat_id, events);
        let me = inbox.me();
        let declined_by = title.clone();
        live.on(move |push| {
            let ended = match push {
                Push::CallDeclined {
                    chat_id: id,
                    member,
                } if *id == chat_id => Some((member, "declined the call.")),
                Push::CallLeft {
                    chat_id: id,
                    member,
                } if *id == chat_id => Some((member, "left: the call has ended.")),
                _ => None,
            };
            if let Some((member, what)) = ended
                && direct
                && Some(member) != me.as_ref()
                && !matches!(stage.get_untracked(), Stage::Failed(_))
            {
                imp::end(live, chat_id);
                stage.set(Stage::Failed(format!("{declined_by} {what}")));
            }
            imp::on_push(live, chat_id, push, events);
        });
        on_cleanup(move || imp::end(live, chat_id));
        // A direct call ends when the other person hangs up, and gives up
        // ringing when nobody answers.
        if direct {
            // The other side gone without hanging up (a reload, a lost
            // network) may come back: the call waits for them a while.
            let who = title.clone();
            Effect::new(move |_| {
                if !others.with(Vec::is_empty) {
                    met.set(true);
                    return;
                }
                if !met.get_untracked() {
                    return;
                }
                let who = who.clone();
                // (The panel may be gone by then: its signals are read with
                // `try_`, which answers None once they are disposed.)
                imp::after(REJOIN_WAIT_MS, move || {
                    let still_gone = others.try_with_untracked(Vec::is_empty) == Some(true)
                        && stage.try_get_untracked() == Some(Stage::Joined);
                    if still_gone {
                        imp::end(live, chat_id);
                        stage.set(Stage::Failed(format!(
                            "The connection to {who} was lost: the call has ended."
                        )));
                    }
                });
            });
            let who = title.clone();
            imp::after(RING_FOR_MS, move || {
                let unanswered = met.try_get_untracked() == Some(false)
                    && matches!(
                        stage.try_get_untracked(),
                        Some(Stage::Joining | Stage::Joined)
                    );
                if unanswered {
                    imp::end(live, chat_id);
                    stage.set(Stage::Failed(format!("No answer from {who}.")));
                }
            });
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, has_video);

    let ended = move || matches!(stage.get(), Stage::Failed(_));
    let leave = move |_| {
        #[cfg(feature = "hydrate")]
        imp::end(live, chat_id);
        on_end.run(());
    };
    let toggle_mute = move |_| {
        muted.update(|m| *m = !*m);
        #[cfg(feature = "hydrate")]
        imp::enable(chat_id, "audio", !muted.get_untracked());
    };
    let toggle_camera = move |_| {
        camera_off.update(|c| *c = !*c);
        #[cfg(feature = "hydrate")]
        imp::enable(chat_id, "video", !camera_off.get_untracked());
    };
    let ringing = title.clone();
    let status = move || match stage.get() {
        Stage::Joining => "Joining the call…".to_owned(),
        Stage::Joined => match others.with(Vec::len) {
            0 if direct && met.get() => {
                format!("{ringing} dropped out: waiting for them to come back…")
            }
            0 if direct => format!("Calling {ringing}…"),
            0 => "In the conference. Waiting for others to join…".to_owned(),
            1 => "In the call with 1 other person.".to_owned(),
            n => format!("In the call with {n} other people."),
        },
        Stage::Failed(why) => why,
    };
    view! {
        <section class="call" aria-label=format!("Call in {title}")>
            <p class="call-status" class:notice=ended class:error=ended role="status">{status}</p>
            <div class="call-grid">
                <figure class="call-tile mine" class:camera-off=move || camera_off.get() || !has_video.get()>
                    <video node_ref=local_video autoplay=true playsinline=true prop:muted=true aria-label="Your camera"></video>
                    <figcaption>"You"</figcaption>
                </figure>
                <For each=move || others.get() key=|p| p.stream.clone() let(person)>
                    <RemoteTile chat_id name=name_of(&person.member) stream=person.stream arrived />
                </For>
            </div>
            <div class="call-controls">
                <Show when=move || !ended()>
                    <button type="button" class="button" aria-pressed=move || muted.get().to_string() on:click=toggle_mute>
                        {move || if muted.get() { "Unmute microphone" } else { "Mute microphone" }}
                    </button>
                    <button type="button" class="button" aria-pressed=move || camera_off.get().to_string() disabled=move || !has_video.get() on:click=toggle_camera>
                        {move || if camera_off.get() { "Turn camera on" } else { "Turn camera off" }}
                    </button>
                </Show>
                <button type="button" class="button" class:danger=move || !ended() on:click=leave>
                    {move || if ended() { "Close" } else { "Leave call" }}
                </button>
            </div>
        </section>
    }
}

/// A direct call ringing for the person: who calls, Answer and Decline.
#[component]
pub fn Ringing(
    chat_id: i64,
    caller: String,
    on_answer: Callback<()>,
    on_decline: Callback<()>,
) -> impl IntoView {
    let live = Live::get();
    let decline = move |_| {
        live.send(&crate::types::ClientFrame::CallDecline { chat_id });
        on_decline.run(());
    };
    view! {
        <section class="call ringing" aria-label="Incoming call">
            <p class="call-status" role="status">{format!("{caller} is calling you…")}</p>
            <div class="call-controls">
                <button type="button" class="button primary" on:click=move |_| on_answer.run(())>"Answer"</button>
                <button type="button" class="button danger" on:click=decline>"Decline"</button>
            </div>
        </section>
    }
}

/// Another participant: their name, and their video once it has come down.
#[component]
fn RemoteTile(
    chat_id: i64,
    name: String,
    stream: String,
    arrived: RwSignal<Vec<String>>,
) -> impl IntoView {
    let video = NodeRef::<leptos::html::Video>::new();
    let here = {
        let stream = stream.clone();
        Memo::new(move |_| arrived.with(|a| a.contains(&stream)))
    };
    #[cfg(feature = "hydrate")]
    {
        let stream = stream.clone();
        Effect::new(move |_| {
            if let Some(video) = video.get()
                && here.get()
            {
                imp::show(chat_id, &stream, &video);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = chat_id;
    view! {
        <figure class="call-tile" class:waiting=move || !here.get() data-stream=stream>
            <video node_ref=video autoplay=true playsinline=true aria-label=format!("{name}'s camera")></video>
            <figcaption>{name.clone()}</figcaption>
        </figure>
    }
}

#[cfg(feature = "hydrate")]
mod imp {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        MediaStream, MediaStreamConstraints, MediaStreamTrack, RtcPeerConnection,
        RtcRtpTransceiver, RtcRtpTransceiverDirection, RtcSdpType, RtcSessionDescriptionInit,
        RtcTrackEvent,
    };

    use super::Stage;
    use crate::live::Live;
    use crate::types::{ClientFrame, Push};

    /// The signals the connection's events change.
    #[derive(Clone, Copy)]
    pub struct Events {
        pub stage: RwSignal<Stage>,
        pub mine: RwSignal<Option<String>>,
        pub arrived: RwSignal<Vec<String>>,
        pub has_video: RwSignal<bool>,
        pub local_video: NodeRef<leptos::html::Video>,
    }

    /// A running call of this tab.
    struct Session {
        connection: RtcPeerConnection,
        local: Option<MediaStream>,
        streams: HashMap<String, MediaStream>,
        _on_track: Closure<dyn FnMut(RtcTrackEvent)>,
    }

    thread_local! {
        static SESSIONS: RefCell<HashMap<i64, Session>> = RefCell::new(HashMap::new());
    }

    /// Asks for the microphone and camera, opens the connection and offers it.
    pub fn start(live: Live, chat_id: i64, events: Events) {
        leptos::task::spawn_local(async move {
            if let Err(why) = join(live, chat_id, events).await {
                end(live, chat_id);
                events.stage.set(Stage::Failed(why));
            }
        });
    }

    async fn join(live: Live, chat_id: i64, events: Events) -> Result<(), String> {
        let local = devices().await?;
        // Left (the panel closed) while the browser asked for the devices:
        // let them go at once rather than start a call nobody shows.
        if events.stage.try_get_untracked().is_none() {
            for track in local.get_tracks().iter() {
                track.unchecked_into::<MediaStreamTrack>().stop();
            }
            return Ok(());
        }
        let connection =
            RtcPeerConnection::new().map_err(|_| "This browser cannot make calls.".to_owned())?;
        let has_video = local.get_video_tracks().length() > 0;
        for track in local.get_tracks().iter() {
            let track: MediaStreamTrack = track.unchecked_into();
            connection.add_track_0(&track, &local);
        }
        // What the tab sends only goes up: the others' tracks come down on
        // lines the unit offers for them.
        for transceiver in connection.get_transceivers().iter() {
            let transceiver: RtcRtpTransceiver = transceiver.unchecked_into();
            transceiver.set_direction(RtcRtpTransceiverDirection::Sendonly);
        }
        events.has_video.set(has_video);
        if let Some(video) = events.local_video.try_get_untracked().flatten() {
            video.set_src_object(Some(&local));
        }
        let on_track = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |event: RtcTrackEvent| {
            let Some(stream) = event.streams().get(0).dyn_into::<MediaStream>().ok() else {
                return;
            };
            let id = stream.id();
            let new = SESSIONS.with_borrow_mut(|sessions| {
                sessions
                    .get_mut(&chat_id)
                    .is_some_and(|s| s.streams.insert(id.clone(), stream).is_none())
            });
            if new {
                events.arrived.update(|r| r.push(id));
            }
        });
        connection.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        SESSIONS.with_borrow_mut(|sessions| {
            sessions.insert(
                chat_id,
                Session {
                    connection: connection.clone(),
                    local: Some(local),
                    streams: HashMap::new(),
                    _on_track: on_track,
                },
            )
        });
        let offer = JsFuture::from(connection.create_offer())
            .await
            .map_err(|_| "The call could not be prepared.".to_owned())?;
        let offer: RtcSessionDescriptionInit = offer.unchecked_into();
        JsFuture::from(connection.set_local_description(&offer))
            .await
            .map_err(|_| "The call could not be prepared.".to_owned())?;
        gathered(&connection).await;
        let sdp = connection
            .local_description()
            .map(|d| d.sdp())
            .ok_or_else(|| "The call could not be prepared.".to_owned())?;
        if !live.connected.get_untracked() {
            return Err(
                "Not connected to the server: try again when the connection is back.".to_owned(),
            );
        }
        live.send(&ClientFrame::CallOffer { chat_id, sdp });
        Ok(())
    }

    /// Whether a push is about this call.
    fn for_call(push: &Push, chat_id: i64) -> bool {
        match push {
            Push::CallAnswer { chat_id: id, .. }
            | Push::CallOffer { chat_id: id, .. }
            | Push::CallRefused { chat_id: id, .. } => *id == chat_id,
            _ => false,
        }
    }

    /// The microphone and, if there is one, the camera.
    async fn devices() -> Result<MediaStream, String> {
        let devices = window()
            .navigator()
            .media_devices()
            .map_err(|_| "This browser gives no access to a microphone here (the page must be served over HTTPS).".to_owned())?;
        for video in [true, false] {
            let constraints = MediaStreamConstraints::new();
            constraints.set_audio(&JsValue::TRUE);
            constraints.set_video(&JsValue::from_bool(video));
            let Ok(asked) = devices.get_user_media_with_constraints(&constraints) else {
                continue;
            };
            if let Ok(stream) = JsFuture::from(asked).await {
                return Ok(stream.unchecked_into());
            }
        }
        Err("No microphone could be used: allow this site to use it in the browser's settings, then call again.".to_owned())
    }

    /// Waits until the connection's candidates are in its description (the
    /// unit takes no candidates later), at most two seconds.
    async fn gathered(connection: &RtcPeerConnection) {
        for _ in 0..40 {
            if connection.ice_gathering_state() == web_sys::RtcIceGatheringState::Complete {
                return;
            }
            sleep(50).await;
        }
    }

    /// Runs `then` after `ms` milliseconds.
    pub fn after(ms: i32, then: impl FnOnce() + 'static) {
        leptos::task::spawn_local(async move {
            sleep(ms).await;
            then();
        });
    }

    /// The call this tab is in, kept for the tab's life (a reload rejoins
    /// it: [`super::super::REJOIN_KEY`]).
    fn remember(chat_id: Option<i64>) {
        let Some(storage) = window().session_storage().ok().flatten() else {
            return;
        };
        let _ = match chat_id {
            Some(id) => storage.set_item(super::super::REJOIN_KEY, &id.to_string()),
            None => storage.remove_item(super::super::REJOIN_KEY),
        };
    }

    async fn sleep(ms: i32) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        });
        let _ = JsFuture::from(promise).await;
    }

    /// The server's answers and offers for this call.
    pub fn on_push(live: Live, chat_id: i64, push: &Push, events: Events) {
        let stage = events.stage;
        if !for_call(push, chat_id) {
            return;
        }
        let Some(connection) =
            SESSIONS.with_borrow(|s| s.get(&chat_id).map(|s| s.connection.clone()))
        else {
            return;
        };
        match push.clone() {
            Push::CallAnswer { sdp, stream, .. } => leptos::task::spawn_local(async move {
                let answer = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
                answer.set_sdp(&sdp);
                match JsFuture::from(connection.set_remote_description(&answer)).await {
                    Ok(_) => {
                        events.mine.set(Some(stream));
                        stage.set(Stage::Joined);
                        remember(Some(chat_id));
                    }
                    Err(_) => {
                        end(live, chat_id);
                        stage.set(Stage::Failed(
                            "The server's answer could not be used: leave and call again."
                                .to_owned(),
                        ));
                    }
                }
            }),
            Push::CallOffer { sdp, .. } => leptos::task::spawn_local(async move {
                let offer = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
                offer.set_sdp(&sdp);
                let answered = async {
                    JsFuture::from(connection.set_remote_description(&offer)).await?;
                    let answer = JsFuture::from(connection.create_answer()).await?;
                    let answer: RtcSessionDescriptionInit = answer.unchecked_into();
                    JsFuture::from(connection.set_local_description(&answer)).await?;
                    Ok::<_, JsValue>(connection.local_description().map(|d| d.sdp()))
                };
                if let Ok(Some(sdp)) = answered.await {
                    live.send(&ClientFrame::CallAnswer { chat_id, sdp });
                }
            }),
            Push::CallRefused { message, .. } => {
                end(live, chat_id);
                stage.set(Stage::Failed(message));
            }
            _ => {}
        }
    }

    /// Turns the tab's own microphone (`"audio"`) or camera (`"video"`) on or
    /// off; the others see a still picture or hear silence.
    pub fn enable(chat_id: i64, kind: &str, on: bool) {
        SESSIONS.with_borrow(|sessions| {
            let Some(local) = sessions.get(&chat_id).and_then(|s| s.local.as_ref()) else {
                return;
            };
            for track in local.get_tracks().iter() {
                let track: MediaStreamTrack = track.unchecked_into();
                if track.kind() == kind {
                    track.set_enabled(on);
                }
            }
        });
    }

    /// Shows another participant's stream in `video`.
    pub fn show(chat_id: i64, stream: &str, video: &web_sys::HtmlVideoElement) {
        SESSIONS.with_borrow(|sessions| {
            if let Some(stream) = sessions.get(&chat_id).and_then(|s| s.streams.get(stream)) {
                video.set_src_object(Some(stream));
            }
        });
    }

    /// Leaves the call: tells the server, closes the connection, and lets go of
    /// the microphone and camera.
    pub fn end(live: Live, chat_id: i64) {
        let Some(session) = SESSIONS.with_borrow_mut(|s| s.remove(&chat_id)) else {
            return;
        };
        remember(None);
        live.send(&ClientFrame::CallLeave { chat_id });
        session.connection.set_ontrack(None);
        session.connection.close();
        if let Some(local) = session.local {
            for track in local.get_tracks().iter() {
                track.unchecked_into::<MediaStreamTrack>().stop();
            }
        }
    }
}
