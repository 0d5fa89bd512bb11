//! The forwarding unit with synthetic participants (`server::media::synthetic`):
//! `str0m` peers on loopback UDP that send tracks and count what comes down
//! from the others, through real ICE, DTLS and SRTP (issue 14, media through
//! our own server).

use std::time::{Duration, Instant};

use server::media::synthetic::{Seen, Sends, Synthetic};
use server::media::{MediaError, RoomId, Setup, Sfu};
use str0m::Rtc;
use str0m::change::SdpOffer;
use str0m::media::{Direction, MediaKind};
use tokio_util::sync::CancellationToken;

async fn unit(max_participants: usize) -> (Sfu, CancellationToken) {
    let tasks = CancellationToken::new();
    let mut setup = Setup::at("127.0.0.1:0".parse().unwrap());
    setup.max_participants = max_participants;
    (Sfu::start(setup, tasks.clone()).await.unwrap(), tasks)
}

/// Waits until `done` holds for what the peers saw; fails after 20 s.
async fn until(peers: &[&Synthetic], what: &str, done: impl Fn(&[Seen]) -> bool) {
    let limit = Instant::now() + Duration::from_secs(20);
    loop {
        let seen: Vec<Seen> = peers.iter().map(|p| p.seen()).collect();
        if done(&seen) {
            return;
        }
        assert!(
            Instant::now() < limit,
            "{what}: {:?}",
            seen.iter().map(|s| &s.frames).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn each_participant_hears_and_sees_every_other_through_the_unit() {
    let (sfu, tasks) = unit(100).await;
    let epoch = Instant::now();
    let room = RoomId(1);
    let a = Synthetic::join(&sfu, room, Sends::AudioAndVideo, epoch)
        .await
        .unwrap();
    let b = Synthetic::join(&sfu, room, Sends::Audio, epoch)
        .await
        .unwrap();
    until(&[&a, &b], "two hear each other", |s| {
        s[0].tracks_with(25) == 1 && s[1].tracks_with(25) == 2
    })
    .await;

    // A third joins later, only listening: it gets all three tracks, and
    // nobody gets anything of it.
    let c = Synthetic::join(&sfu, room, Sends::Nothing, epoch)
        .await
        .unwrap();
    until(&[&a, &b, &c], "the listener hears both", |s| {
        s[2].tracks_with(25) == 3
    })
    .await;
    assert_eq!(a.seen().frames.len(), 1, "the listener sends nothing");
    assert!(
        !c.seen().delays_us.is_empty(),
        "audio carries its writing time"
    );
    assert_eq!(sfu.count(room).await.unwrap(), 3);

    // Another room hears nothing of this one.
    let other = Synthetic::join(&sfu, RoomId(2), Sends::Audio, epoch)
        .await
        .unwrap();
    until(&[&other], "the other room's peer connects", |s| {
        s[0].connected
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(other.seen().frames.is_empty(), "{:?}", other.seen().frames);

    // One leaves: the room counts two.
    drop(c);
    let limit = Instant::now() + Duration::from_secs(10);
    while sfu.count(room).await.unwrap() != 2 {
        assert!(Instant::now() < limit, "the leaver is counted out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tasks.cancel();
}

#[tokio::test]
async fn a_full_room_and_offers_of_the_wrong_shape_are_refused() {
    let (sfu, tasks) = unit(2).await;
    let epoch = Instant::now();
    let room = RoomId(7);
    let a = Synthetic::join(&sfu, room, Sends::Audio, epoch)
        .await
        .unwrap();
    let _b = Synthetic::join(&sfu, room, Sends::Audio, epoch)
        .await
        .unwrap();
    let full = Synthetic::join(&sfu, room, Sends::Audio, epoch).await.err();
    assert_eq!(full, Some(MediaError::Full(2)));
    assert_eq!(sfu.count(room).await.unwrap(), 2);

    // An offer without any media line.
    let mut rtc = Rtc::builder().build(Instant::now());
    let mut change = rtc.sdp_api();
    change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, _) = change.apply().unwrap();
    let stripped: String = offer
        .to_sdp_string()
        .lines()
        .take_while(|line| !line.starts_with("m="))
        .map(|line| format!("{line}\r\n"))
        .collect();
    let empty = SdpOffer::from_sdp_string(&stripped).unwrap();
    let refused = sfu.join(RoomId(8), "ann@a.test", empty).await.unwrap_err();
    assert!(matches!(refused, MediaError::Invalid(_)), "{refused:?}");
    assert_eq!(sfu.count(RoomId(8)).await.unwrap(), 0);

    // An answer nobody asked for.
    let mut asker = Rtc::builder().build(Instant::now());
    let mut change = asker.sdp_api();
    change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, _) = change.apply().unwrap();
    let mut other = Rtc::builder().build(Instant::now());
    let answer = other.sdp_api().accept_offer(offer).unwrap();
    assert!(matches!(
        sfu.answer(a.id, answer).await,
        Err(MediaError::Invalid(_))
    ));
    tasks.cancel();
}
