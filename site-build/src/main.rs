//! Builds the browser client into `target/site` without cargo-leptos.
//!
//! ```text
//! cargo run --release -p site-build            # release: what the server serves
//! cargo run --release -p site-build -- --dev   # quick: debug wasm, plain names
//! ```
//!
//! A release build makes two bundles: `causeway` (every page but the control
//! panel's) and `causeway-panel` (every page). For each, it
//! 1. compiles `frontend` for `wasm32-unknown-unknown` with the `wasm-release`
//!    profile (sized for download, see the workspace `Cargo.toml`) and leptos's
//!    erased view types (set for every build in `.cargo/config.toml`);
//! 2. turns it into a JS module and its wasm with `wasm-bindgen` used as a
//!    library, at the exact version in `Cargo.lock`;
//! 3. tidies the wasm with `wasm-opt -O1` (npm's binaryen, in `tools/`): what
//!    compresses best, not what is smallest raw (ADR 046), and minifies the JS
//!    with npm's terser.
//!
//! Then it names the wasm, JS and CSS by their content (`causeway.<hash>.wasm`),
//! so the server may let browsers keep them for a year, lists the names in
//! `target/site/hash.txt`, writes each file's brotli (`.br`) and gzip (`.gz`)
//! form beside it for the server to send as the browser accepts, and copies
//! `public/` to the site root.
//!
//! `cargo leptos watch` still works for those who have cargo-leptos: it writes
//! plain names and no `hash.txt`, and the server serves those as they are.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};
use sha2::{Digest as _, Sha256};

/// What the server, leptos's hydration script and the stylesheet link call the
/// client: `<OUTPUT>.js`, `<OUTPUT>.wasm`, `<OUTPUT>.css` (with a hash between).
const OUTPUT: &str = "causeway";
/// The wasm target's profile for a release build (sized for download).
const RELEASE_PROFILE: &str = "wasm-release";

/// One of the client's bundles: a build of `frontend` with some features.
struct Bundle {
    /// The files' stem in `/pkg`.
    name: &'static str,
    cargo_args: &'static [&'static str],
}

/// The chat bundle, which every page but the control panel's loads, leaves the
/// panel out; the panel bundle has every page. A development build makes only
/// the second, under the plain name.
const BUNDLES: [Bundle; 2] = [
    Bundle {
        name: "causeway",
        cargo_args: &["--no-default-features"],
    },
    Bundle {
        name: "causeway-panel",
        cargo_args: &[],
    },
];

fn main() -> anyhow::Result<()> {
    let workspace = workspace_root()?;
    let mut dev = false;
    let mut optimize_wasm = true;
    let mut site = workspace.join("target").join("site");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dev" => dev = true,
            "--no-opt" => optimize_wasm = false,
            "--site" => site = args.next().context("--site needs a folder")?.into(),
            "-h" | "--help" => {
                println!(
                    "usage: site-build [--dev] [--no-opt] [--site DIR]\n\n\
                     Builds the browser client into DIR (default target/site)."
                );
                return Ok(());
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    let started = Instant::now();
    let pkg = site.join("pkg");
    let staging = site.with_extension("staging");

    if staging.exists() {
        fs::remove_dir_all(&staging).context("clearing the staging folder")?;
    }
    // Each bundle is compiled and bound in turn (cargo writes both to the
    // same artifact path); each one's wasm-opt runs while the next compiles.
    let bundles = if dev { &BUNDLES[1..] } else { &BUNDLES[..] };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut shrinking = Vec::new();
    for bundle in bundles {
        let out = staging.join(bundle.name);
        let wasm = compile(&workspace, bundle, dev)?;
        bindgen(&wasm, &out, dev)?;
        // A development build has one bundle, under the plain name.
        let name = if dev { OUTPUT } else { bundle.name };
        let js = out.join(format!("{OUTPUT}.js"));
        if !dev && optimize_wasm {
            minify(&workspace, &js)?;
        }
        files.push((format!("{name}.js"), fs::read(&js)?));
        let wasm = out.join(format!("{OUTPUT}_bg.wasm"));
        if !dev && optimize_wasm {
            shrinking.push((format!("{name}.wasm"), Shrinking::start(&workspace, &wasm)?));
        } else {
            files.push((format!("{name}.wasm"), fs::read(&wasm)?));
        }
        let snippets = out.join("snippets");
        if snippets.exists() {
            copy_tree(&snippets, &staging.join("snippets"))?;
        }
    }
    for (name, pending) in shrinking {
        files.push((name, pending.finish()?));
    }
    let css =
        fs::read(workspace.join("style").join("main.css")).context("reading style/main.css")?;
    files.push((format!("{OUTPUT}.css"), css));

    if pkg.exists() {
        fs::remove_dir_all(&pkg).context("clearing the site's pkg folder")?;
    }
    fs::create_dir_all(&pkg)?;
    let hash_file = site.join("hash.txt");
    let mut written = Vec::new();
    let mut hashes = String::new();
    for (name, bytes) in &files {
        let name = if dev {
            name.clone()
        } else {
            // `causeway-panel.js` → key `panel-js`, file `causeway-panel.<hash>.js`.
            let (stem, kind) = name
                .rsplit_once('.')
                .context("a file name without extension")?;
            let key = match stem.strip_prefix(OUTPUT).and_then(|s| s.strip_prefix('-')) {
                Some(bundle) => format!("{bundle}-{kind}"),
                None => kind.to_owned(),
            };
            let hash = content_hash(bytes);
            hashes.push_str(&format!("{key}: {hash}\n"));
            format!("{stem}.{hash}.{kind}")
        };
        let path = pkg.join(name);
        fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    let snippets = staging.join("snippets");
    if snippets.exists() {
        copy_tree(&snippets, &pkg.join("snippets"))?;
    }
    copy_tree(&workspace.join("public"), &site)?;

    if dev {
        // Plain names: a hash file left by a release build would name files
        // that are gone.
        if hash_file.exists() {
            fs::remove_file(&hash_file)?;
        }
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = written
                .iter()
                .map(|path| scope.spawn(move || compress(path)))
                .collect();
            workers.into_iter().try_for_each(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| bail!("compressing panicked"))
            })
        })?;
        fs::write(&hash_file, hashes)?;
    }
    fs::remove_dir_all(&staging).ok();

    println!(
        "site-build: {} in {:.1} s",
        site.display(),
        started.elapsed().as_secs_f64()
    );
    for path in &written {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let raw = fs::metadata(path)?.len();
        if dev {
            println!("  {name:<40} {raw:>10} B");
        } else {
            let gz = fs::metadata(with_suffix(path, "gz"))?.len();
            let br = fs::metadata(with_suffix(path, "br"))?.len();
            println!("  {name:<40} {raw:>10} B raw {gz:>9} B gzip {br:>9} B brotli");
        }
    }
    Ok(())
}

/// The workspace root: where `Cargo.lock` is, from this crate's manifest.
fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .parent()
        .context("site-build's manifest has no parent folder")?
        .to_path_buf();
    ensure!(
        root.join("Cargo.lock").exists(),
        "no Cargo.lock in {}",
        root.display()
    );
    Ok(root)
}

/// Compiles the `frontend` crate to wasm and returns the artifact's path.
fn compile(workspace: &Path, bundle: &Bundle, dev: bool) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let profile = if dev { "dev" } else { RELEASE_PROFILE };
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args(["build", "-p", "frontend", "--lib"])
        .args(["--target", "wasm32-unknown-unknown", "--profile", profile])
        .args(bundle.cargo_args)
        // leptos names the hydration files after this (and the server and
        // cargo-leptos set it too, so switching between them rebuilds nothing).
        .env("LEPTOS_OUTPUT_NAME", OUTPUT)
        .status()
        .context("running cargo")?;
    ensure!(status.success(), "building the wasm failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let folder = if dev { "debug" } else { RELEASE_PROFILE };
    let wasm = target
        .join("wasm32-unknown-unknown")
        .join(folder)
        .join("frontend.wasm");
    ensure!(wasm.exists(), "cargo built no {}", wasm.display());
    Ok(wasm)
}

/// Writes `<OUTPUT>.js`, `<OUTPUT>_bg.wasm` and any JS snippets into `out`.
fn bindgen(wasm: &Path, out: &Path, dev: bool) -> anyhow::Result<()> {
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(wasm)
        .out_name(OUTPUT)
        .typescript(false)
        .debug(dev)
        .remove_name_section(!dev)
        .remove_producers_section(!dev);
    bindgen.web(true)?;
    bindgen
        .generate(out)
        .with_context(|| format!("wasm-bindgen on {}", wasm.display()))
}

/// Minifies wasm-bindgen's JavaScript glue in place with npm's terser (from
/// `tools/node_modules`): 72 KB to 33 KB raw, 9.5 KB to 7.6 KB brotli for the
/// chat bundle. `--module` keeps the exports the page imports.
fn minify(workspace: &Path, js: &Path) -> anyhow::Result<()> {
    let tool = workspace.join("tools/node_modules/.bin/terser");
    ensure!(
        tool.exists(),
        "{} is missing: run scripts/setup.sh (it runs `npm ci` in tools/)",
        tool.display()
    );
    let status = Command::new(&tool)
        .arg(js)
        .args(["--module", "--compress", "--mangle", "-o"])
        .arg(js)
        .status()
        .context("running terser")?;
    ensure!(status.success(), "terser failed on {}", js.display());
    Ok(())
}

/// `wasm-opt -O1 --converge` running on one bundle's wasm, from
/// `tools/node_modules` (npm's binaryen; Debian's is too old for what rustc
/// emits).
struct Shrinking {
    child: std::process::Child,
    output: PathBuf,
}

impl Shrinking {
    fn start(workspace: &Path, wasm: &Path) -> anyhow::Result<Shrinking> {
        let tool = workspace.join("tools/node_modules/.bin/wasm-opt");
        ensure!(
            tool.exists(),
            "{} is missing: run scripts/setup.sh (it runs `npm ci` in tools/)",
            tool.display()
        );
        let output = wasm.with_extension("opt.wasm");
        let child = Command::new(&tool)
            // -Oz makes the module smallest raw but larger once compressed
            // (337 KB brotli for the chat bundle against 313 KB at -O1, 319 KB
            // with no wasm-opt at all) and takes four times as long; -O1 run
            // until nothing changes saves another 1.8 KB (ADR 046).
            .args(["-O1", "--converge"])
            .arg(wasm)
            .arg("-o")
            .arg(&output)
            .spawn()
            .context("running wasm-opt")?;
        Ok(Shrinking { child, output })
    }

    fn finish(mut self) -> anyhow::Result<Vec<u8>> {
        let status = self.child.wait().context("waiting for wasm-opt")?;
        ensure!(status.success(), "wasm-opt failed");
        Ok(fs::read(&self.output)?)
    }
}

/// The first 16 hex digits of the SHA-256 of `bytes`: a name that changes
/// whenever the content does.
fn content_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Writes `<path>.br` (brotli, quality 11) and `<path>.gz` (gzip, level 9).
fn compress(path: &Path) -> anyhow::Result<()> {
    let bytes = fs::read(path)?;
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 24,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut bytes.as_slice(), &mut br, &params)?;
    fs::write(with_suffix(path, "br"), br)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes)?;
    fs::write(with_suffix(path, "gz"), gz.finish()?)?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .with_context(|| format!("copying to {}", target.display()))?;
        }
    }
    Ok(())
}
