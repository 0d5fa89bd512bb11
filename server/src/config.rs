//! Typed configuration: built-in defaults, then an optional TOML file, then
//! `CAUSEWAY_*` environment variables (nested keys joined with `__`, e.g.
//! `CAUSEWAY_DATABASE__URL`). With no file and no variables the server starts on
//! SQLite under `./data`.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use app::types::ServerName;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This server's name: the part after `@` in its users' Causeway IDs.
    pub server_name: ServerName,
    /// Address and port to listen on. Port 0 picks a free port (tests use this).
    pub listen: SocketAddr,
    /// Where the database (SQLite) and the files live unless set otherwise.
    pub data_dir: PathBuf,
    /// The address people type into the browser, e.g. `https://chat.example.com`.
    /// When it is `https`, session cookies are marked `Secure`.
    pub public_url: Option<String>,
    /// The folder with the compiled front end (`pkg/`, CSS, static assets).
    pub site_root: PathBuf,
    /// Reverse proxies in front of this server, as addresses or networks
    /// (`"10.0.0.5"`, `"10.0.0.0/8"`). A request from one of them is taken to be
    /// from the address it names in `X-Forwarded-For` (for sign-in throttling and
    /// the audit log). Empty: the connection's address is the client's.
    pub trusted_proxies: Vec<String>,
    pub database: DatabaseConfig,
    pub files: FilesConfig,
    pub sessions: SessionConfig,
    pub log: LogConfig,
    pub media: MediaConfig,
}

/// `Debug` is written by hand: the URL's password is never printed.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://…`. Empty: `sqlite://{data_dir}/causeway.db`.
    pub url: Option<String>,
    /// Upper bound of pooled connections.
    pub max_connections: u32,
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// A database URL fit to print: the password, if any, becomes `***`.
pub fn redact_url(url: &str) -> String {
    let url = redact_query_password(url);
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url,
            }
        }
        _ => url,
    }
}

/// sqlx also takes the password as a query parameter (`?password=…`).
fn redact_query_password(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesConfig {
    /// Folder for uploaded files. Empty: `{data_dir}/files`.
    pub dir: Option<PathBuf>,
}

/// Calls' media: one UDP port for every connection of the forwarding unit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaConfig {
    /// Address and port of the media socket. Port 0 picks a free one.
    pub udp: SocketAddr,
    /// The address browsers send media to, when it is not the bound one (a
    /// server behind NAT, or bound to `0.0.0.0`).
    pub announce: Option<std::net::IpAddr>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// A browser session (no "Remember me") ends after this many minutes without a request.
    pub idle_timeout_minutes: u32,
    /// A browser session ends this many hours after sign-in, active or not.
    pub absolute_timeout_hours: u32,
    /// A "Remember me" session ends this many days after sign-in.
    pub remember_me_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `info,server=debug`. `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server_name: ServerName::parse("localhost").expect("a valid literal server name"),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("data"),
            public_url: None,
            site_root: PathBuf::from("target/site"),
            trusted_proxies: Vec::new(),
            database: DatabaseConfig {
                url: None,
                max_connections: 16,
            },
            files: FilesConfig { dir: None },
            sessions: SessionConfig {
                idle_timeout_minutes: 8 * 60,
                absolute_timeout_hours: 24,
                remember_me_days: 30,
            },
            log: LogConfig {
                format: LogFormat::Pretty,
                level: "info".to_owned(),
            },
            media: MediaConfig {
                udp: SocketAddr::from(([127, 0, 0, 1], 0)),
                announce: None,
            },
        }
    }
}

/// `10.0.0.0/8`, or a single address as a network of one.
fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Loads defaults, then `file` (when given it must exist; otherwise
    /// `causeway.toml` is read if present), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => {
                return Err(ConfigError(format!("{} does not exist", path.display())));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new("causeway.toml").exists() => {
                figment = figment.merge(Toml::file_exact("causeway.toml"));
            }
            None => {}
        }
        figment = figment.merge(
            Env::prefixed("CAUSEWAY_")
                .split("__")
                .ignore(&["config", "admin_password"]),
        );
        let config: Config = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.sessions;
        if s.idle_timeout_minutes == 0 || s.absolute_timeout_hours == 0 || s.remember_me_days == 0 {
            return Err(ConfigError("session timeouts must be at least 1".into()));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError(
                "database.max_connections must be at least 1".into(),
            ));
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError(
                "public_url must start with http:// or https://".into(),
            ));
        }
        for proxy in &self.trusted_proxies {
            if parse_network(proxy).is_none() {
                return Err(ConfigError(format!(
                    "trusted_proxies: {proxy:?} is not an IP address or network (like 10.0.0.0/8)"
                )));
            }
        }
        Ok(())
    }

    /// The trusted reverse proxies (see [`Config::trusted_proxies`]), as checked
    /// when the configuration was loaded.
    pub fn trusted_networks(&self) -> Vec<IpNet> {
        self.trusted_proxies
            .iter()
            .filter_map(|proxy| parse_network(proxy))
            .collect()
    }

    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) if !url.is_empty() => url.clone(),
            _ => format!("sqlite://{}", self.data_dir.join("causeway.db").display()),
        }
    }

    pub fn files_dir(&self) -> PathBuf {
        self.files
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("files"))
    }

    /// Session cookies carry `Secure` when the public address is HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

#[cfg(test)]
// figment::Jail's closures must return figment's (large) error type; that is its API, not ours.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file() {
        figment::Jail::expect_with(|_jail| {
            let config = Config::load(None).expect("defaults load");
            assert_eq!(config.database_url(), "sqlite://data/causeway.db");
            assert_eq!(config.files_dir(), PathBuf::from("data/files"));
            assert_eq!(config.listen.port(), 3000);
            Ok(())
        });
    }

    #[test]
    fn file_then_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "causeway.toml",
                "server_name = \"corp.example\"\nlisten = \"0.0.0.0:8080\"\n[database]\nurl = \"postgres://db/causeway\"\nmax_connections = 4\n",
            )?;
            jail.set_env("CAUSEWAY_LISTEN", "127.0.0.1:9090");
            jail.set_env("CAUSEWAY_SESSIONS__REMEMBER_ME_DAYS", "7");
            let config = Config::load(None).expect("config loads");
            assert_eq!(config.server_name.as_str(), "corp.example");
            assert_eq!(config.listen.port(), 9090);
            assert_eq!(config.database_url(), "postgres://db/causeway");
            assert_eq!(config.sessions.remember_me_days, 7);
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CAUSEWAY_SERVER_NAME", "not a name");
            assert!(Config::load(None).is_err());
            jail.set_env("CAUSEWAY_SERVER_NAME", "ok");
            jail.set_env("CAUSEWAY_SESSIONS__IDLE_TIMEOUT_MINUTES", "0");
            assert!(Config::load(None).is_err());
            Ok(())
        });
        assert!(Config::load(Some(Path::new("/nonexistent/causeway.toml"))).is_err());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "causeway.toml",
                "trusted_proxies = [\"10.0.0.5\", \"192.168.0.0/16\", \"::1\"]\n",
            )?;
            let config = Config::load(None).expect("config loads");
            let networks: Vec<String> = config
                .trusted_networks()
                .iter()
                .map(ToString::to_string)
                .collect();
            assert_eq!(networks, ["10.0.0.5/32", "192.168.0.0/16", "::1/128"]);
            // The environment takes a list too.
            jail.set_env("CAUSEWAY_TRUSTED_PROXIES", "[\"10.0.0.0/8\"]");
            let networks = Config::load(None).expect("config loads").trusted_networks();
            assert_eq!(networks, ["10.0.0.0/8".parse::<IpNet>().unwrap()]);
            jail.clear_env();
            jail.create_file("causeway.toml", "trusted_proxies = [\"proxy.local\"]\n")?;
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.contains("proxy.local"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn database_passwords_are_not_printed() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/causeway"),
            "postgres://app:***@db:5432/causeway"
        );
        assert_eq!(
            redact_url("postgres://app@db/causeway"),
            "postgres://app@db/causeway"
        );
        assert_eq!(
            redact_url("postgres://db/causeway?user=app&password=s3cret&sslmode=require"),
            "postgres://db/causeway?user=app&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("sqlite://data/causeway.db"),
            "sqlite://data/causeway.db"
        );
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        for url in [
            "postgres://causeway:s3cret-P4ss@db.internal:5432/causeway",
            "postgres://causeway@db.internal/causeway?password=s3cret-P4ss",
        ] {
            let config = Config {
                database: DatabaseConfig {
                    url: Some(url.to_owned()),
                    max_connections: 4,
                },
                ..Config::default()
            };
            for printed in [format!("{config:?}"), format!("{config:#?}")] {
                assert!(!printed.contains("s3cret-P4ss"), "{printed}");
                assert!(printed.contains("db.internal"), "{printed}");
            }
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("causeway.toml", "listne = \"0.0.0.0:1\"\n")?;
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }
}
