//! Packs the built site (`target/site`, or `$MARQUEE_SITE_DIR`) into the `marquee` binary: every
//! file hashed, its brotli and gzip forms made here once rather than per request, and all of it
//! listed in `$OUT_DIR/site.rs` for `src/main.rs`, which hands it to `server::site`. With no
//! built site (a bare `cargo build` on a fresh checkout) the list is empty and the binary serves
//! a site directory instead, as before.

use std::error::Error;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

use sha2::{Digest, Sha256};

/// Files this small gain nothing from compression worth a second copy.
const COMPRESS_ABOVE: usize = 256;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=MARQUEE_SITE_DIR");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let site = env::var_os("MARQUEE_SITE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../target/site"));
    // Watch the directory even while it does not exist, so building the site rebuilds this.
    println!("cargo::rerun-if-changed={}", site.display());
    let out = PathBuf::from(env::var("OUT_DIR")?);
    if !site.join("pkg/marquee_bg.wasm").is_file() {
        println!(
            "cargo::warning=no built site at {}: this marquee serves a site directory (MARQUEE_SITE_ROOT) instead",
            site.display()
        );
        fs::write(out.join("site.rs"), "&[]")?;
        return Ok(());
    }
    // A release build compresses as hard as brotli goes; a dev build, with its much bigger
    // unoptimised bundle, quickly.
    let best = env::var("PROFILE").is_ok_and(|p| p == "release");
    let site = site.canonicalize()?;

    let packed = out.join("site");
    fs::create_dir_all(&packed)?;
    let mut files = Vec::new();
    collect(&site, &site, &mut files)?;
    files.sort();

    let mut code = String::from("&[\n");
    for (n, rel) in files.iter().enumerate() {
        let source = site.join(rel);
        let bytes = fs::read(&source)?;
        let hash = hex(&Sha256::digest(&bytes)[..8]);
        let path = format!("/{}", rel.replace('\\', "/"));
        // Files directly under /pkg/ get a content-hashed name as well.
        let hashed = match path.strip_prefix("/pkg/") {
            Some(name) if !name.contains('/') => match name.rsplit_once('.') {
                Some((stem, ext)) => format!("Some({:?})", format!("/pkg/{stem}.{hash}.{ext}")),
                None => "None".into(),
            },
            _ => "None".into(),
        };
        let kind = content_type(&path);
        let (mut gzip, mut brotli) = ("None".to_string(), "None".to_string());
        if compressible(&kind) && bytes.len() > COMPRESS_ABOVE {
            let gz = gzip_of(&bytes, best)?;
            if gz.len() < bytes.len() {
                let file = packed.join(format!("{n}.gz"));
                fs::write(&file, &gz)?;
                gzip = format!("Some(include_bytes!({:?}))", file.display().to_string());
            }
            let br = brotli_of(&bytes, best)?;
            if br.len() < bytes.len() {
                let file = packed.join(format!("{n}.br"));
                fs::write(&file, &br)?;
                brotli = format!("Some(include_bytes!({:?}))", file.display().to_string());
            }
        }
        writeln!(
            code,
            "    server::site::EmbeddedFile {{ path: {path:?}, hashed: {hashed}, content_type: {kind:?}, hash: {hash:?}, \
             identity: include_bytes!({:?}), gzip: {gzip}, brotli: {brotli} }},",
            source.display().to_string()
        )?;
    }
    code.push(']');
    fs::write(out.join("site.rs"), code)?;
    Ok(())
}

/// Every file under `dir`, as paths relative to `root`.
fn collect(root: &Path, dir: &Path, into: &mut Vec<String>) -> Result<(), Box<dyn Error>> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, into)?;
        } else {
            let rel = path.strip_prefix(root)?.to_string_lossy().into_owned();
            into.push(rel);
        }
    }
    Ok(())
}

/// The media type a site directory would serve the file with (tower-http's ServeDir asks
/// mime_guess too), so both ways of serving the site agree.
fn content_type(path: &str) -> String {
    mime_guess::from_path(path)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

fn compressible(kind: &str) -> bool {
    kind.starts_with("text/")
        || kind == "application/wasm"
        || kind == "application/json"
        || kind == "image/svg+xml"
}

fn gzip_of(bytes: &[u8], best: bool) -> Result<Vec<u8>, Box<dyn Error>> {
    let level = if best {
        flate2::Compression::best()
    } else {
        flate2::Compression::fast()
    };
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), level);
    enc.write_all(bytes)?;
    Ok(enc.finish()?)
}

fn brotli_of(bytes: &[u8], best: bool) -> Result<Vec<u8>, Box<dyn Error>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: if best { 11 } else { 4 },
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
