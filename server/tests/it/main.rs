//! The server's integration tests, one binary for all: each module drives real
//! servers (or the storage layer) the way its file's doc comment describes, and
//! `common` is the harness they share. One binary links the server once instead
//! of once per file; run one module with `cargo test -p server --test it federation::`.

mod common;

mod admin_api;
mod auth_api;
mod authorization;
mod avatars;
mod calls;
mod chats_api;
mod cli;
mod client_files;
mod durability;
mod federation;
mod files_api;
mod input_api;
mod media;
mod onboarding;
mod openapi;
mod realtime;
mod storage_contract;
