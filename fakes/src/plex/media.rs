//! Real demo media, generated once with ffmpeg and cached on disk.
//!
//! The files are real so that browser tests exercise actual decoding: an H.264/AAC MP4 that
//! Chromium direct-plays, an HEVC/AC3 MKV it cannot (the fake's transcoder turns it into HLS
//! with ffmpeg, as Plex would), and a ten-minute H.264/AAC MP4 to seek around in.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::FakeError;

/// Bump when the generated set changes so stale caches are regenerated.
const LAYOUT_VERSION: &str = "v5";
/// Length of every generated clip, in seconds.
pub const CLIP_SECONDS: u32 = 120;
/// Length of every generated clip, in milliseconds (what Plex reports as `duration`).
pub const CLIP_MILLIS: i64 = CLIP_SECONDS as i64 * 1000;
/// Length of the long clip, in seconds: room to seek in a transcode.
pub const LONG_SECONDS: u32 = 600;
/// Length of the long clip, in milliseconds.
pub const LONG_MILLIS: i64 = LONG_SECONDS as i64 * 1000;
/// Poster colours (top, bottom) so each poster is recognisably different.
const POSTER_COLOURS: [(&str, &str); 5] = [
    ("0x1e3a8a", "0xf59e0b"),
    ("0x7f1d1d", "0xfde68a"),
    ("0x064e3b", "0xa7f3d0"),
    ("0x4c1d95", "0xf472b6"),
    ("0x0f172a", "0x38bdf8"),
];

/// Paths of the generated demo media.
#[derive(Debug, Clone)]
pub struct MediaFiles {
    /// Directory holding everything below.
    pub root: PathBuf,
    /// 640x360 H.264 (main, yuv420p) + AAC stereo MP4 with faststart: browsers direct-play it.
    pub h264_mp4: PathBuf,
    /// 640x360 HEVC + AC3 MKV: browsers cannot play it, so it must go through the transcoder.
    pub hevc_mkv: PathBuf,
    /// 640x360 H.264/AAC MP4 of [`LONG_SECONDS`]: direct-playable, and long enough that a
    /// seek to 90 % lands far past what a transcode has made.
    pub long_mp4: PathBuf,
    /// 300x450 JPEG posters, all different.
    pub posters: Vec<PathBuf>,
    /// 1280x720 JPEG backdrop.
    pub backdrop: PathBuf,
}

impl MediaFiles {
    fn layout(root: &Path) -> Self {
        MediaFiles {
            root: root.to_path_buf(),
            h264_mp4: root.join("h264-aac.mp4"),
            hevc_mkv: root.join("hevc-ac3.mkv"),
            long_mp4: root.join("h264-aac-long.mp4"),
            posters: (0..POSTER_COLOURS.len())
                .map(|i| root.join(format!("poster-{i}.jpg")))
                .collect(),
            backdrop: root.join("backdrop.jpg"),
        }
    }

    /// The file a Media version plays, its extension and its type.
    pub fn file_of(
        &self,
        kind: super::library::MediaKind,
    ) -> (PathBuf, &'static str, &'static str) {
        use super::library::MediaKind;
        match kind {
            MediaKind::H264 => (self.h264_mp4.clone(), "mp4", "video/mp4"),
            MediaKind::Hevc => (self.hevc_mkv.clone(), "mkv", "video/x-matroska"),
            MediaKind::Long => (self.long_mp4.clone(), "mp4", "video/mp4"),
        }
    }

    fn complete(&self) -> bool {
        self.root.join("COMPLETE").is_file()
            && self.h264_mp4.is_file()
            && self.hevc_mkv.is_file()
            && self.long_mp4.is_file()
            && self.backdrop.is_file()
            && self.posters.iter().all(|p| p.is_file())
    }
}

/// Default media dir: `$MARQUEE_DEMO_MEDIA_DIR`, else `<workspace>/target/demo-media`, so every
/// test binary of the workspace shares one generated copy.
pub fn default_media_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MARQUEE_DEMO_MEDIA_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("demo-media");
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("target")
        .join("demo-media")
}

/// Serialises generation inside one process; across processes the atomic rename decides.
static GENERATION: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Generate (once, cached in `dir`) the demo media with ffmpeg.
///
/// Files are produced in a private temporary directory that is renamed into place only when
/// complete, so concurrent callers (threads or processes) never see half-written media; if two
/// processes race, the loser discards its copy.
pub async fn ensure_media(dir: &Path) -> Result<MediaFiles, FakeError> {
    let final_dir = dir.join(LAYOUT_VERSION);
    let files = MediaFiles::layout(&final_dir);
    if files.complete() {
        return Ok(files);
    }
    let _guard = GENERATION.lock().await;
    if files.complete() {
        return Ok(files);
    }
    check_ffmpeg().await?;
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(FakeError::io(format!("creating {}", dir.display())))?;
    tracing::info!(dir = %final_dir.display(), "generating demo media (first run only)…");
    let started = std::time::Instant::now();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp_dir = dir.join(format!(".tmp-{}-{nanos}", std::process::id()));
    let result = generate_into(&tmp_dir).await;
    if let Err(err) = result {
        let _ = tokio::fs::remove_dir_all(&tmp_dir).await;
        return Err(err);
    }
    if final_dir.exists() && !files.complete() {
        // A stale or broken cache (e.g. an interrupted manual copy): replace it.
        let _ = tokio::fs::remove_dir_all(&final_dir).await;
    }
    match tokio::fs::rename(&tmp_dir, &final_dir).await {
        Ok(()) => {}
        Err(_) if files.complete() => {
            // Another process won the race; its copy is just as good.
            let _ = tokio::fs::remove_dir_all(&tmp_dir).await;
        }
        Err(source) => {
            let _ = tokio::fs::remove_dir_all(&tmp_dir).await;
            return Err(FakeError::Io {
                context: format!("moving demo media into {}", final_dir.display()),
                source,
            });
        }
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo media ready"
    );
    Ok(files)
}

async fn check_ffmpeg() -> Result<(), FakeError> {
    let status = tokio::process::Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    match status {
        Ok(s) if s.success() => Ok(()),
        _ => Err(FakeError::FfmpegMissing),
    }
}

async fn generate_into(tmp: &Path) -> Result<(), FakeError> {
    let files = MediaFiles::layout(tmp);
    tokio::fs::create_dir_all(tmp)
        .await
        .map_err(FakeError::io(format!("creating {}", tmp.display())))?;
    let secs = CLIP_SECONDS.to_string();
    let h264 = {
        let out = files.h264_mp4.clone();
        async move {
            tracing::info!("demo media: H.264/AAC MP4");
            h264_clip("H.264 MP4", &out, CLIP_SECONDS, 440, "30", "64k").await
        }
    };
    let hevc = {
        let mkv = files.hevc_mkv.clone();
        let secs = secs.clone();
        async move {
            tracing::info!("demo media: HEVC/AC3 MKV");
            ffmpeg(
                "HEVC MKV",
                &[
                    "-f",
                    "lavfi",
                    "-i",
                    &format!("testsrc=size=640x360:rate=24:duration={secs}"),
                    "-f",
                    "lavfi",
                    "-i",
                    &format!("sine=frequency=660:beep_factor=2:sample_rate=48000:duration={secs}"),
                    "-c:v",
                    "libx265",
                    "-preset",
                    "ultrafast",
                    "-x265-params",
                    "log-level=error",
                    "-pix_fmt",
                    "yuv420p",
                    "-c:a",
                    "ac3",
                    "-b:a",
                    "128k",
                    "-ac",
                    "2",
                    "-shortest",
                    "-f",
                    "matroska",
                ],
                &mkv,
            )
            .await
        }
    };
    let long = {
        let out = files.long_mp4.clone();
        async move {
            tracing::info!("demo media: ten-minute H.264/AAC MP4");
            // Lower quality: ten minutes of test pattern at the short clip's would be 75 MB.
            h264_clip("long MP4", &out, LONG_SECONDS, 550, "38", "48k").await
        }
    };
    let images = {
        let files = files.clone();
        async move {
            tracing::info!("demo media: posters and backdrop");
            for (i, (path, (top, bottom))) in files.posters.iter().zip(POSTER_COLOURS).enumerate() {
                ffmpeg(
                    "poster",
                    &[
                        "-f",
                        "lavfi",
                        "-i",
                        &format!(
                            "gradients=s=300x450:c0={top}:c1={bottom}:seed={}:duration=1",
                            i + 1
                        ),
                        "-frames:v",
                        "1",
                        "-q:v",
                        "4",
                        "-f",
                        "image2",
                        "-c:v",
                        "mjpeg",
                    ],
                    path,
                )
                .await?;
            }
            ffmpeg(
                "backdrop",
                &[
                    "-f", "lavfi", "-i",
                    "gradients=s=1280x720:c0=0x111827:c1=0x6366f1:c2=0xec4899:n=3:seed=7:duration=1",
                    "-frames:v", "1", "-q:v", "5", "-f", "image2", "-c:v", "mjpeg",
                ],
                &files.backdrop,
            )
            .await
        }
    };
    tokio::try_join!(h264, hevc, long, images)?;
    tokio::fs::write(tmp.join("COMPLETE"), LAYOUT_VERSION)
        .await
        .map_err(FakeError::io("writing media marker"))?;
    Ok(())
}

/// A direct-playable H.264/AAC MP4 (main profile, faststart) of the test pattern and a beeping
/// `tone` Hz, `secs` long.
async fn h264_clip(
    what: &str,
    out: &Path,
    secs: u32,
    tone: u32,
    crf: &str,
    audio: &str,
) -> Result<(), FakeError> {
    ffmpeg(
        what,
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size=640x360:rate=24:duration={secs}"),
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency={tone}:beep_factor=4:sample_rate=48000:duration={secs}"),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            crf,
            "-pix_fmt",
            "yuv420p",
            "-profile:v",
            "main",
            "-level",
            "3.0",
            "-g",
            "48",
            "-c:a",
            "aac",
            "-b:a",
            audio,
            "-ac",
            "2",
            "-movflags",
            "+faststart",
            "-shortest",
            "-f",
            "mp4",
        ],
        out,
    )
    .await
}

/// Run one ffmpeg invocation writing `out`; `args` go between the global flags and `out`.
async fn ffmpeg(what: &str, args: &[&str], out: &Path) -> Result<(), FakeError> {
    let output = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(args)
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                FakeError::FfmpegMissing
            } else {
                FakeError::Io {
                    context: format!("running ffmpeg for {what}"),
                    source,
                }
            }
        })?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: String = stderr
            .chars()
            .rev()
            .take(800)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        Err(FakeError::Ffmpeg {
            what: what.to_string(),
            stderr: tail,
        })
    }
}
