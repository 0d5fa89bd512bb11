//! Builds the browser client into `target/site` without cargo-leptos.
//!
//! ```text
//! cargo run --release -p site-build            # release: what the server serves
//! cargo run --release -p site-build -- --dev   # quick: debug wasm, plain names
//! ```
//!
//! A release build
//! 1. compiles `frontend` for `wasm32-unknown-unknown` with the `wasm-release`
//!    profile (sized for download, see the workspace `Cargo.toml`), leptos's
//!    erased view types and the linker's relocations (both set for the wasm
//!    target in `.cargo/config.toml`);
//! 2. cuts the module at its lazy routes with `wasm_split_cli_support`
//!    (ADR 058): a main module with the chats and what every page shares, one
//!    module per lazy route and modules that several of them share, and a JS
//!    link module that fetches and links those when a page first needs them;
//! 3. turns the main module into a JS module and its wasm with `wasm-bindgen`
//!    used as a library, at the exact version in `Cargo.lock`;
//! 4. tidies every wasm with `wasm-opt -O1` (npm's binaryen, in `tools/`):
//!    what compresses best, not what is smallest raw (ADR 046), and minifies
//!    the JS with npm's terser.
//!
//! Then it names every file by its content (`causeway.<hash>.wasm`,
//! `causeway-lazy-<module>.<hash>.wasm`; the main JS and the link module,
//! which import each other, share one hash over both), so the server may let
//! browsers keep them for a year, lists the main names in
//! `target/site/hash.txt` and each lazy route's modules in
//! `target/site/lazy.json`, writes each file's brotli (`.br`) and gzip
//! (`.gz`) form beside it for the server to send as the browser accepts, and
//! copies `public/` to the site root.
//!
//! `cargo leptos watch --split` still works for those who have cargo-leptos:
//! it writes plain names and no `hash.txt`, and the server serves those as
//! they are.

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

fn main() -> anyhow::Result<()> {
    let workspace = workspace_root()?;
    let mut dev = false;
    let mut optimize_wasm = true;
    let mut keep_names = false;
    let mut site = workspace.join("target").join("site");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dev" => dev = true,
            "--no-opt" => optimize_wasm = false,
            // Keeps the wasm's function names, for measuring with twiggy.
            "--keep-names" => keep_names = true,
            "--site" => site = args.next().context("--site needs a folder")?.into(),
            "-h" | "--help" => {
                println!(
                    "usage: site-build [--dev] [--no-opt] [--keep-names] [--site DIR]\n\n\
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
    let out = staging.join(OUTPUT);
    let wasm = compile(&workspace, dev)?;
    let split = split(&wasm, &out.join("split"))?;
    bindgen(&split.main, &out, dev, keep_names)?;
    let js = out.join(format!("{OUTPUT}.js"));
    if !dev && optimize_wasm {
        minify(&workspace, &js)?;
        minify(&workspace, &split.link)?;
    }
    // Every module through wasm-opt, as many at once as there are cores
    // (each is a node process: thirty at once on two cores thrash).
    let main_wasm = out.join(format!("{OUTPUT}_bg.wasm"));
    let mut modules: Vec<PathBuf> = split.chunks.iter().map(|(_, path)| path.clone()).collect();
    modules.push(main_wasm);
    let mut modules = if !dev && optimize_wasm {
        in_parallel(&modules, |wasm| shrink(&workspace, wasm, keep_names))?
    } else {
        modules
    };
    let wasm = modules.pop().context("no main module")?;
    let chunks = split
        .chunks
        .iter()
        .map(|(stem, _)| stem.clone())
        .zip(modules)
        .collect();
    let built = Built {
        js: fs::read_to_string(&js)?,
        link: fs::read_to_string(&split.link)?,
        wasm,
        chunks,
        prefetch: split.prefetch,
    };
    let named = built.name_files(dev)?;
    let mut files = named.files;
    let mut hashes: String = named
        .hashes
        .iter()
        .map(|(key, hash)| format!("{key}: {hash}\n"))
        .collect();
    let css =
        fs::read(workspace.join("style").join("main.css")).context("reading style/main.css")?;
    let css_name = if dev {
        format!("{OUTPUT}.css")
    } else {
        let hash = content_hash(&css);
        hashes.push_str(&format!("css: {hash}\n"));
        format!("{OUTPUT}.{hash}.css")
    };
    files.push((css_name, css));

    if pkg.exists() {
        fs::remove_dir_all(&pkg).context("clearing the site's pkg folder")?;
    }
    fs::create_dir_all(&pkg)?;
    let hash_file = site.join("hash.txt");
    let mut written = Vec::new();
    for (name, bytes) in &files {
        let path = pkg.join(name);
        fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    fs::write(
        site.join(LAZY_FILE),
        serde_json::to_vec_pretty(&serde_json::Value::Object(named.prefetch))?,
    )?;
    let snippets = out.join("snippets");
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
        in_parallel(&written, |path| compress(path))?;
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
fn compile(workspace: &Path, dev: bool) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let profile = if dev { "dev" } else { RELEASE_PROFILE };
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args(["build", "-p", "frontend", "--lib"])
        .args(["--target", "wasm32-unknown-unknown", "--profile", profile])
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
fn bindgen(wasm: &Path, out: &Path, dev: bool, keep_names: bool) -> anyhow::Result<()> {
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(wasm)
        .out_name(OUTPUT)
        .typescript(false)
        .debug(dev)
        .remove_name_section(!dev && !keep_names)
        .remove_producers_section(!dev)
        // The split modules call the main module's own exports (its table,
        // stack pointer and functions), which wasm-bindgen would otherwise
        // remove.
        .keep_lld_exports(true);
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

/// Runs `work` on every item, as many at once as the machine has cores; the
/// results in the items' order, or the first failure.
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> anyhow::Result<R> + Sync,
) -> anyhow::Result<Vec<R>> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<anyhow::Result<R>>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..cores.min(items.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else {
                        return;
                    };
                    let result = work(item);
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| bail!("a worker stopped"))
        })
        .collect()
}

/// `wasm-opt -O1 --converge` on one module, from `tools/node_modules` (npm's
/// binaryen; Debian's is too old for what rustc emits): the optimised file.
fn shrink(workspace: &Path, wasm: &Path, keep_names: bool) -> anyhow::Result<PathBuf> {
    let tool = workspace.join("tools/node_modules/.bin/wasm-opt");
    ensure!(
        tool.exists(),
        "{} is missing: run scripts/setup.sh (it runs `npm ci` in tools/)",
        tool.display()
    );
    let output = wasm.with_extension("opt.wasm");
    let done = Command::new(&tool)
        // -Oz makes the module smallest raw but larger once compressed
        // (337 KB brotli for the chat bundle against 313 KB at -O1, 319 KB
        // with no wasm-opt at all) and takes four times as long; -O1 run
        // until nothing changes saves another 1.8 KB (ADR 046).
        .args(["-O1", "--converge"])
        .args(keep_names.then_some("-g"))
        .arg(wasm)
        .arg("-o")
        .arg(&output)
        // It warns about name subsections it does not know on every split
        // module: shown only if it fails.
        .output()
        .context("running wasm-opt")?;
    ensure!(
        done.status.success(),
        "wasm-opt failed on {}: {}",
        wasm.display(),
        String::from_utf8_lossy(&done.stderr)
    );
    Ok(output)
}

/// The linked wasm cut at its lazy points by `wasm_split_cli_support`.
struct Split {
    /// What wasm-bindgen binds: everything not only reached through a lazy
    /// point.
    main: PathBuf,
    /// The JS module that fetches and links the other modules; it imports the
    /// main module's JS as [`MAIN_JS_PLACEHOLDER`] and names each module as
    /// `"./<stem>.wasm"`.
    link: PathBuf,
    /// Each module fetched on demand: its file stem and path.
    chunks: Vec<(String, PathBuf)>,
    /// For each lazy point (leptos's name for it), the stems of the modules it
    /// needs.
    prefetch: std::collections::HashMap<String, Vec<String>>,
}

/// What the split link module imports `initSync` from, until the main JS has
/// its final name.
const MAIN_JS_PLACEHOLDER: &str = "./main.js";
/// What the main module imports the link module as, until it has its final
/// name.
const LINK_JS_PLACEHOLDER: &str = "./__wasm_split.js";
/// Where the build lists, for each bundle, the modules each lazy point needs:
/// the server tells the browser to fetch those a page will need at once.
const LAZY_FILE: &str = "lazy.json";

fn split(wasm: &Path, dir: &Path) -> anyhow::Result<Split> {
    let input = fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let main = dir.join("main.wasm");
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = dir;
    options.main_out_path = &main;
    options.link_name = LINK_JS_PLACEHOLDER;
    options.main_module = MAIN_JS_PLACEHOLDER;
    let split = wasm_split_cli_support::transform(options)
        .map_err(|error| anyhow::anyhow!("splitting {}: {error:#}", wasm.display()))?;
    let chunks = split
        .split_modules
        .into_iter()
        .map(|path| {
            let stem = path
                .file_stem()
                .context("a split module without a name")?
                .to_string_lossy()
                .into_owned();
            Ok((stem, path))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Split {
        main,
        link: dir.join(LINK_JS_PLACEHOLDER),
        chunks,
        prefetch: split.prefetch_map,
    })
}

/// The client, bound and split, before its files have their names.
struct Built {
    js: String,
    link: String,
    wasm: PathBuf,
    chunks: Vec<(String, PathBuf)>,
    prefetch: std::collections::HashMap<String, Vec<String>>,
}

/// The client's files under their final names.
struct Named {
    files: Vec<(String, Vec<u8>)>,
    /// `hash.txt` lines: the main JS's and wasm's.
    hashes: Vec<(String, String)>,
    /// Each lazy point's modules, by final name without `.wasm` (as leptos
    /// wants them).
    prefetch: serde_json::Map<String, serde_json::Value>,
}

impl Built {
    /// Names every file by its content (plain names in a development build)
    /// and points the JS at those names. The main JS and the link module
    /// import each other, so the two share one hash, taken over both.
    fn name_files(self, dev: bool) -> anyhow::Result<Named> {
        let name = OUTPUT;
        let Built {
            mut js,
            mut link,
            wasm,
            chunks,
            prefetch,
        } = self;
        let hashed = |stem: String, bytes: &[u8], kind: &str| {
            if dev {
                format!("{stem}.{kind}")
            } else {
                format!("{stem}.{}.{kind}", content_hash(bytes))
            }
        };
        let mut files = Vec::new();
        let mut renamed = std::collections::HashMap::new();
        for (stem, module) in chunks {
            let bytes = fs::read(&module)?;
            let file = hashed(format!("{name}-lazy-{stem}"), &bytes, "wasm");
            replace_once(
                &mut link,
                &format!("\"./{stem}.wasm\""),
                &format!("\"./{file}\""),
            )?;
            renamed.insert(stem, file.trim_end_matches(".wasm").to_owned());
            files.push((file, bytes));
        }
        let both = [js.as_bytes(), link.as_bytes()].concat();
        let js_name = hashed(name.to_owned(), &both, "js");
        let link_name = hashed(format!("{name}-link"), &both, "js");
        replace_once(
            &mut link,
            &format!("\"{MAIN_JS_PLACEHOLDER}\""),
            &format!("\"./{js_name}\""),
        )?;
        // wasm-bindgen imports the link module once per function it provides,
        // and keys the wasm's imports by the module name the wasm was linked
        // with, which stays.
        point_imports(&mut js, LINK_JS_PLACEHOLDER, &format!("./{link_name}"))?;
        let wasm = fs::read(&wasm)?;
        let wasm_name = hashed(name.to_owned(), &wasm, "wasm");
        let hash_of = |file: &str| file.split('.').nth(1).unwrap_or_default().to_owned();
        let hashes = if dev {
            Vec::new()
        } else {
            vec![
                ("js".to_owned(), hash_of(&js_name)),
                ("wasm".to_owned(), hash_of(&wasm_name)),
            ]
        };
        files.push((js_name, js.into_bytes()));
        files.push((link_name, link.into_bytes()));
        files.push((wasm_name, wasm));
        let prefetch = prefetch
            .into_iter()
            .map(|(point, stems)| {
                let modules = stems
                    .iter()
                    .filter_map(|stem| renamed.get(stem).cloned())
                    .map(serde_json::Value::from)
                    .collect::<Vec<_>>();
                (point, modules.into())
            })
            .collect();
        Ok(Named {
            files,
            hashes,
            prefetch,
        })
    }
}

/// Points every `import … from "<module>"` of `js` at `to` instead (minified
/// or not), leaving other mentions of the name alone; there must be one.
fn point_imports(js: &mut String, module: &str, to: &str) -> anyhow::Result<()> {
    let mut found = 0;
    for quote in ['"', '\''] {
        for from in ["from", "from "] {
            let old = format!("{from}{quote}{module}{quote}");
            found += js.matches(&old).count();
            *js = js.replace(&old, &format!("{from}{quote}{to}{quote}"));
        }
    }
    ensure!(
        found > 0,
        "expected an import from {module:?} in generated JS"
    );
    Ok(())
}

/// Replaces the one occurrence of `from` in `text`; anything else means the
/// generated code is not what this build expects.
fn replace_once(text: &mut String, from: &str, to: &str) -> anyhow::Result<()> {
    let found = text.matches(from).count();
    ensure!(
        found == 1,
        "expected {from:?} once in generated JS, found it {found} times"
    );
    *text = text.replacen(from, to, 1);
    Ok(())
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
