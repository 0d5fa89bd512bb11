//! What federation does with the chat core's events: wakes the outbox of each
//! other server with members in a chat hosted here that changed, and passes
//! typing and presence on to the servers they concern.

use app::types::ServerName;
use tokio::sync::broadcast::error::RecvError;

use super::protocol::Ephemeral;
use super::{Context, client, outbox};
use crate::chat::{ChatLocation, Event, other_servers};

/// Follows the events of `cx` until the server stops.
pub fn spawn(cx: &Context) {
    let mut events = cx.events.follow();
    let cx = cx.clone();
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                () = cx.tasks.cancelled() => break,
            };
            match event {
                Ok(event) => handle(&cx, &event),
                // Missed events: every destination with something pending is
                // woken, and its cursors say what it still lacks.
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "federation fell behind the chat events");
                    outbox::resume(&cx).await;
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

fn handle(cx: &Context, event: &Event) {
    let own = &cx.config.server_name;
    match event {
        Event::Chat {
            location: ChatLocation::Hosted,
            to,
            ..
        }
        | Event::Read {
            location: ChatLocation::Hosted,
            to,
            ..
        } => {
            for server in other_servers(own, to.iter().map(String::as_str)) {
                cx.federation.outbox.wake(cx, &server);
            }
        }
        // A copy's news came from its host, or went to it already.
        Event::Chat { .. } | Event::Read { .. } => {}
        Event::Typing {
            chat_id,
            location,
            member,
            to,
            from,
        } => {
            let (servers, host, chat_id) = match location {
                // Typed here in a copy: the host passes it on.
                ChatLocation::Copy { host, host_chat_id } if from.is_none() => {
                    (vec![host.clone()], host.clone(), *host_chat_id)
                }
                ChatLocation::Copy { .. } => return,
                // Every other member server, but not back where it came from.
                ChatLocation::Hosted => {
                    let mut servers = other_servers(own, to.iter().map(String::as_str));
                    servers
                        .retain(|server| Some(server) != from.as_ref() && server != &member.server);
                    (servers, own.clone(), chat_id.0)
                }
            };
            let item = Ephemeral::Typing {
                host,
                chat_id,
                member: member.clone(),
            };
            client::send_ephemeral(cx, servers, item);
        }
        // A call's media and roster stay on the server that hosts its chat
        // until the cascade between servers carries them.
        Event::Call { .. } | Event::CallDeclined { .. } | Event::CallLeft { .. } => {}
        Event::Presence { member, online, to } => {
            // Only this server speaks for its people.
            if &member.server != own {
                return;
            }
            let servers: Vec<ServerName> = other_servers(own, to.iter().map(String::as_str));
            let item = Ephemeral::Presence {
                member: member.clone(),
                online: *online,
            };
            client::send_ephemeral(cx, servers, item);
        }
    }
}
