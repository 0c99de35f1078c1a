//! Real demo media, generated once with ffmpeg and cached on disk.
//!
//! The files are real so that browser tests exercise actual decoding: an H.264/AAC MP4 that
//! Chromium direct-plays, an HEVC/AC3 MKV it cannot (the fake's transcoder turns it into HLS
//! with ffmpeg, as Plex would), a ten-minute H.264/AAC MP4 to seek around in, and a movie in
//! two languages with subtitles of every text kind (see [`cues`] for what they say).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{SystemTime, UNIX_EPOCH};

use super::streams::Sidecar;
use crate::FakeError;

/// Bump when the generated set changes so stale caches are regenerated.
const LAYOUT_VERSION: &str = "v7";
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
    /// 640x360 H.264 MP4 with two AAC tracks (English: a 440 Hz tone; French: 990 Hz) and an
    /// embedded English `mov_text` subtitle: a browser direct-plays its first audio track only.
    pub multi_mp4: PathBuf,
    /// The demo's subtitle files, by [`Sidecar`].
    pub sidecars: Vec<(Sidecar, PathBuf)>,
    /// 300x450 JPEG posters, all different.
    pub posters: Vec<PathBuf>,
    /// 1280x720 JPEG backdrop.
    pub backdrop: PathBuf,
    /// Seek-preview thumbnails (BIF, one 240x135 JPEG every [`PREVIEW_INTERVAL_MS`]) of the
    /// H.264 clip and of the long movie, as Plex makes them; the other files have none, as on a
    /// server that has not made them all.
    pub h264_previews: PathBuf,
    pub long_previews: PathBuf,
}

/// Plex's default thumbnail interval for seek previews.
pub const PREVIEW_INTERVAL_MS: u32 = 2_000;

impl MediaFiles {
    fn layout(root: &Path) -> Self {
        MediaFiles {
            root: root.to_path_buf(),
            h264_mp4: root.join("h264-aac.mp4"),
            hevc_mkv: root.join("hevc-ac3.mkv"),
            long_mp4: root.join("h264-aac-long.mp4"),
            multi_mp4: root.join("multi-language.mp4"),
            sidecars: [
                (Sidecar::FrenchSrt, "multi-language.fr.srt"),
                (Sidecar::SpanishAss, "multi-language.es.ass"),
                (Sidecar::EnglishForcedSrt, "multi-language.en.forced.srt"),
                (Sidecar::ImageCues, "image-subtitles.en.srt"),
            ]
            .into_iter()
            .map(|(which, name)| (which, root.join(name)))
            .collect(),
            posters: (0..POSTER_COLOURS.len())
                .map(|i| root.join(format!("poster-{i}.jpg")))
                .collect(),
            backdrop: root.join("backdrop.jpg"),
            h264_previews: root.join("h264-aac.sd.bif"),
            long_previews: root.join("h264-aac-long.sd.bif"),
        }
    }

    /// The seek-preview index of a Media version's file, if it has one.
    pub fn previews_of(&self, kind: super::library::MediaKind) -> Option<PathBuf> {
        use super::library::MediaKind;
        match kind {
            MediaKind::H264 | MediaKind::ImageSubs => Some(self.h264_previews.clone()),
            MediaKind::Long => Some(self.long_previews.clone()),
            MediaKind::Hevc | MediaKind::MultiTrack => None,
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
            MediaKind::MultiTrack => (self.multi_mp4.clone(), "mp4", "video/mp4"),
            MediaKind::ImageSubs => (self.h264_mp4.clone(), "mp4", "video/mp4"),
        }
    }

    /// The file of a sidecar subtitle.
    pub fn sidecar(&self, which: Sidecar) -> PathBuf {
        self.sidecars
            .iter()
            .find(|(w, _)| *w == which)
            .map_or_else(|| self.root.join("missing.srt"), |(_, p)| p.clone())
    }

    fn complete(&self) -> bool {
        self.root.join("COMPLETE").is_file()
            && self.h264_mp4.is_file()
            && self.hevc_mkv.is_file()
            && self.long_mp4.is_file()
            && self.multi_mp4.is_file()
            && self.sidecars.iter().all(|(_, p)| p.is_file())
            && self.backdrop.is_file()
            && self.posters.iter().all(|p| p.is_file())
            && self.h264_previews.is_file()
            && self.long_previews.is_file()
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
        let (out, previews) = (files.h264_mp4.clone(), files.h264_previews.clone());
        async move {
            tracing::info!("demo media: H.264/AAC MP4");
            h264_clip("H.264 MP4", &out, CLIP_SECONDS, 440, "30", "64k").await?;
            preview_index(&out, &previews).await
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
        let (out, previews) = (files.long_mp4.clone(), files.long_previews.clone());
        async move {
            tracing::info!("demo media: ten-minute H.264/AAC MP4");
            // Lower quality: ten minutes of test pattern at the short clip's would be 75 MB.
            h264_clip("long MP4", &out, LONG_SECONDS, 550, "38", "48k").await?;
            preview_index(&out, &previews).await
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
    let multi = {
        let files = files.clone();
        async move {
            tracing::info!("demo media: two-language MP4 and its subtitles");
            multi_language(&files).await
        }
    };
    tokio::try_join!(h264, hevc, long, images, multi)?;
    tokio::fs::write(tmp.join("COMPLETE"), LAYOUT_VERSION)
        .await
        .map_err(FakeError::io("writing media marker"))?;
    Ok(())
}

/// What the demo's subtitles say and when: cue `i` (from 0) of every track is shown from
/// `4i + 0.5` s to `4i + 3.5` s, so tests know what is on screen at any time.
pub mod cues {
    /// Cues in each full subtitle track (the clip's length).
    pub const COUNT: usize = 30;

    /// When cue `i` starts and ends, in seconds.
    pub fn span(i: usize) -> (f64, f64) {
        let start = 4.0 * i as f64 + 0.5;
        (start, start + 3.0)
    }

    /// The embedded English subtitle's cue `i`.
    pub fn english(i: usize) -> String {
        format!("English line {}", i + 1)
    }

    /// The French SRT's cue `i`.
    pub fn french(i: usize) -> String {
        format!("Ligne française {}", i + 1)
    }

    /// The Spanish ASS's cue `i`, as plain text (the file styles it).
    pub fn spanish(i: usize) -> String {
        format!("Línea española {}", i + 1)
    }

    /// The burned-in image subtitle's cue `i`.
    pub fn image(i: usize) -> String {
        format!("Burned line {}", i + 1)
    }

    /// The forced English track shows only every fifth cue: signs, not dialogue.
    pub fn forced(i: usize) -> Option<String> {
        i.is_multiple_of(5).then(|| format!("SIGN {}", i / 5 + 1))
    }
}

fn srt_time(secs: f64) -> String {
    let ms = (secs * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02},{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn ass_time(secs: f64) -> String {
    let cs = (secs * 100.0).round() as u64;
    format!(
        "{}:{:02}:{:02}.{:02}",
        cs / 360_000,
        cs / 6000 % 60,
        cs / 100 % 60,
        cs % 100
    )
}

/// An SRT of `text(i)` for every cue that has one.
fn srt(text: impl Fn(usize) -> Option<String>) -> String {
    let mut out = String::new();
    let mut n = 0;
    for i in 0..cues::COUNT {
        if let Some(t) = text(i) {
            n += 1;
            let (a, b) = cues::span(i);
            out.push_str(&format!(
                "{n}\r\n{} --> {}\r\n{t}\r\n\r\n",
                srt_time(a),
                srt_time(b)
            ));
        }
    }
    out
}

/// The styled Spanish ASS: a yellow default style, every third line italic in a second
/// style at the top, bold and colour overrides inside lines.
fn spanish_ass() -> String {
    let mut out = String::from(
        "[Script Info]\nTitle: Babel Street (Español)\nScriptType: v4.00+\nPlayResX: 640\nPlayResY: 360\n\n\
         [V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n\
         Style: Default,DejaVu Sans,22,&H0000FFFF,&H000000FF,&H00000000,&H80000000,0,0,0,0,100,100,0,0,1,2,0,2,20,20,20,1\n\
         Style: Top,DejaVu Sans,20,&H00FFFFFF,&H000000FF,&H00000000,&H80000000,0,1,0,0,100,100,0,0,1,2,0,8,20,20,20,1\n\n\
         [Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
    );
    for i in 0..cues::COUNT {
        let (a, b) = cues::span(i);
        let style = if i % 3 == 2 { "Top" } else { "Default" };
        let n = i + 1;
        out.push_str(&format!(
            "Dialogue: 0,{},{},{style},,0,0,0,,{{\\b1}}Línea{{\\b0}} {{\\c&H00FF00&}}española{{\\r}} {n}\n",
            ass_time(a),
            ass_time(b)
        ));
    }
    out
}

/// The two-language MP4 and the subtitle files.
async fn multi_language(files: &MediaFiles) -> Result<(), FakeError> {
    let write = |path: PathBuf, text: String| async move {
        tokio::fs::write(&path, text)
            .await
            .map_err(FakeError::io(format!("writing {}", path.display())))
    };
    let embedded = files.root.join("multi-language.en.embedded.srt");
    write(embedded.clone(), srt(|i| Some(cues::english(i)))).await?;
    write(
        files.sidecar(Sidecar::FrenchSrt),
        srt(|i| Some(cues::french(i))),
    )
    .await?;
    write(files.sidecar(Sidecar::SpanishAss), spanish_ass()).await?;
    write(files.sidecar(Sidecar::EnglishForcedSrt), srt(cues::forced)).await?;
    write(
        files.sidecar(Sidecar::ImageCues),
        srt(|i| Some(cues::image(i))),
    )
    .await?;
    let secs = CLIP_SECONDS;
    let embedded = embedded.to_string_lossy().into_owned();
    let video = format!("testsrc2=size=640x360:rate=24:duration={secs}");
    let english = format!("sine=frequency=440:sample_rate=48000:duration={secs}");
    let french = format!("sine=frequency=990:sample_rate=48000:duration={secs}");
    let length = secs.to_string();
    let inputs = [
        "-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &english, "-f", "lavfi", "-i", &french,
        "-i", &embedded, "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s",
    ];
    let rest = [
        "-crf",
        "32",
        "-c:a",
        "aac",
        "-b:a",
        "48k",
        "-ac",
        "2",
        "-af",
        "volume=0.25",
        "-c:s",
        "mov_text",
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:1",
        "language=fra",
        "-metadata:s:s:0",
        "language=eng",
        "-disposition:a:0",
        "default",
        "-disposition:a:1",
        "0",
        "-movflags",
        "+faststart",
        "-t",
        &length,
        "-f",
        "mp4",
    ];
    ffmpeg(
        "two-language MP4",
        &[&inputs[..], &BROWSER_H264, &rest].concat(),
        &files.multi_mp4,
    )
    .await
}

/// x264 settings every browser direct-plays: main profile, level 3.0, a key frame every 2 s.
const BROWSER_H264: [&str; 12] = [
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-pix_fmt",
    "yuv420p",
    "-profile:v",
    "main",
    "-level",
    "3.0",
    "-g",
    "48",
];

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
    let video = format!("testsrc2=size=640x360:rate=24:duration={secs}");
    let beeps = format!("sine=frequency={tone}:beep_factor=4:sample_rate=48000:duration={secs}");
    let inputs = ["-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &beeps];
    let rest = [
        "-crf",
        crf,
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
    ];
    ffmpeg(what, &[&inputs[..], &BROWSER_H264, &rest].concat(), out).await
}

/// Run one ffmpeg invocation writing `out`; `args` go between the global flags and `out`.
/// A BIF of `video`'s frames every [`PREVIEW_INTERVAL_MS`], 240 pixels wide, as Plex's
/// "video preview thumbnails" are: ffmpeg cuts the JPEGs, and the index is written here (the
/// format: a 64-byte header, `(index, offset)` pairs ending in `0xffffffff`, the images).
async fn preview_index(video: &Path, out: &Path) -> Result<(), FakeError> {
    let frames = out.with_extension("frames");
    tokio::fs::create_dir_all(&frames)
        .await
        .map_err(FakeError::io(format!("creating {}", frames.display())))?;
    let pattern = frames.join("%05d.jpg");
    let every = f64::from(PREVIEW_INTERVAL_MS) / 1000.0;
    // A frame from the middle of each interval's first moments: `fps` at 1/interval, starting
    // at 0, gives one image per interval.
    ffmpeg(
        "preview thumbnails",
        &[
            "-i",
            &video.to_string_lossy(),
            "-vf",
            &format!("fps=1/{every}:round=down,scale=240:-2"),
            "-q:v",
            "6",
            "-f",
            "image2",
        ],
        &pattern,
    )
    .await?;
    let mut names: Vec<PathBuf> = std::fs::read_dir(&frames)
        .map_err(FakeError::io(format!("reading {}", frames.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    let mut images = Vec::with_capacity(names.len());
    for name in &names {
        images.push(
            tokio::fs::read(name)
                .await
                .map_err(FakeError::io(format!("reading {}", name.display())))?,
        );
    }
    tokio::fs::write(out, bif(&images, PREVIEW_INTERVAL_MS))
        .await
        .map_err(FakeError::io(format!("writing {}", out.display())))?;
    let _ = tokio::fs::remove_dir_all(&frames).await;
    Ok(())
}

/// The BIF file of `images` taken every `interval_ms`.
fn bif(images: &[Vec<u8>], interval_ms: u32) -> Vec<u8> {
    const MAGIC: [u8; 8] = [0x89, b'B', b'I', b'F', 0x0d, 0x0a, 0x1a, 0x0a];
    let count = u32::try_from(images.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(64 + images.iter().map(Vec::len).sum::<usize>());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&0u32.to_le_bytes()); // version
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&interval_ms.to_le_bytes()); // ms per timestamp unit
    out.resize(64, 0);
    let mut offset = 64 + (images.len() + 1) * 8;
    for (i, image) in images.iter().enumerate() {
        out.extend_from_slice(&u32::try_from(i).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes());
        offset += image.len();
    }
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes());
    for image in images {
        out.extend_from_slice(image);
    }
    out
}

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
