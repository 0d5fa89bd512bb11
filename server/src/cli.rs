//! The `causeway` command line: `serve` (the default), `migrate`, `admin create`.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::auth::bootstrap::create_admin;
use crate::config::{Config, LogFormat};
use crate::federation::{ServerKeys, keys};
use crate::server::{open_store, open_store_exclusive, prepare_on, serve};

#[derive(Debug, Parser)]
#[command(
    name = "causeway",
    version,
    about = "Causeway, the self-hosted corporate messenger"
)]
pub struct Cli {
    /// Configuration file (TOML). Default: ./causeway.toml when it exists.
    #[arg(long, short, env = "CAUSEWAY_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default when no command is given).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// This server's federation signing key.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Print the current key's id and fingerprint (what other servers' white
    /// lists may pin).
    Show,
    /// Make a new signing key. The old one stays published for 7 days, so
    /// requests signed just before still verify; a running server switches
    /// within a minute. Other servers that pin the old fingerprint must be
    /// given the new one.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator account. Without --password-stdin a password is
    /// generated and printed once.
    Create {
        /// The login (lowercase letters, digits, '.', '_', '-').
        #[arg(long)]
        login: String,
        /// The name others see. Default: the login.
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    init_tracing(&config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => run_server(config).await,
        Command::Migrate => {
            let store = open_store(&config).await?;
            store.close().await;
            println!("The database is up to date.");
            Ok(())
        }
        Command::Key(command) => {
            let store = open_store(&config).await?;
            let outcome = key_command(&store, command).await;
            store.close().await;
            outcome
        }
        Command::Admin(AdminCommand::Create {
            login,
            display_name,
            password_stdin,
        }) => {
            let password = if password_stdin {
                if std::io::stdin().is_terminal() {
                    eprintln!("Type the password and press Enter:");
                }
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the password from standard input")?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let store = open_store(&config).await?;
            let display_name = display_name.unwrap_or_else(|| login.clone());
            let created = create_admin(&store, &login, &display_name, password).await;
            store.close().await;
            let created = created?;
            println!(
                "Administrator {}@{} created.",
                created.user.login, config.server_name
            );
            if !password_stdin {
                println!("Password: {}", created.password);
                println!("This password is shown only once.");
            }
            Ok(())
        }
    }
}

async fn key_command(store: &crate::storage::Store, command: KeyCommand) -> anyhow::Result<()> {
    if let KeyCommand::Rotate = command {
        keys::rotate(store)
            .await
            .context("storing the new signing key")?;
        println!("A new signing key was made; the old one stays valid for 7 days.");
    }
    let keys = ServerKeys::load(store)
        .await
        .context("reading the signing key")?;
    println!("Key:         {}", keys.key_id());
    println!("Fingerprint: {}", keys.fingerprint());
    Ok(())
}

async fn run_server(config: Config) -> anyhow::Result<()> {
    // The database first: a second server on it is told so, rather than that its
    // port is taken.
    let store = open_store_exclusive(&config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let address = listener.local_addr().context("reading the bound address")?;
    let prepared = prepare_on(store, config).await?;
    // Listen for SIGINT/SIGTERM before saying we run: a signal sent right after the
    // banner must stop the server gracefully, not kill it.
    let shutdown = CancellationToken::new();
    let signals = Signals::register()?;
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            signals.wait().await;
            tracing::info!("shutting down");
            shutdown.cancel();
        }
    });
    let config = prepared.state.config.clone();
    let url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    tracing::info!(%address, server_name = %config.server_name, "listening");
    println!("Causeway is running. Open {url} in a browser.");
    println!(
        "Server name: {}  ·  Listening on http://{address}",
        config.server_name
    );
    if let Some(admin) = &prepared.first_admin {
        println!();
        println!("First start: an administrator account was created.");
        println!("  Login:    {}", admin.user.login);
        println!("  Password: {}", admin.password);
        println!("This password is shown only once. Sign in at {url}/login and keep it safe;");
        println!("more administrators can be added with `causeway admin create --login NAME`.");
    }
    println!("Press Ctrl+C to stop.");
    serve(prepared.state, listener, shutdown).await
}

/// The signals that stop the server, registered up front.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn register() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
                terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves at the first Ctrl+C or SIGTERM.
    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless: the first subscriber stays.
    let _ = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
