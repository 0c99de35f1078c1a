//! Text subtitles (SRT, ASS/SSA, WebVTT) to the WebVTT a browser draws.
//!
//! Browsers render only WebVTT, and only a little of its markup: Marquee keeps bold, italic
//! and underline, and whether a line sits at the top of the picture; ASS positions, colours,
//! fonts, karaoke and drawings are dropped (the text is what matters to a viewer). Every cue's
//! text is escaped and only those three tags are written, so a subtitle file cannot put markup
//! of its own into the page. Real files come in every encoding: a byte-order mark is honoured
//! (UTF-8 and UTF-16), and a file that is not UTF-8 is read as Windows-1252, the usual
//! encoding of old SRTs.

use std::fmt::Write as _;

/// Why a subtitle file could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubtitleError {
    #[error("the subtitle file has no cues Marquee can read")]
    NoCues,
}

/// A subtitle file's format, told from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Srt,
    Ass,
    Vtt,
}

/// One cue: a span of time (ms) and its text as WebVTT markup.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cue {
    start: u64,
    end: u64,
    text: String,
    top: bool,
}

/// The WebVTT of a subtitle file in any of the text formats.
pub fn to_webvtt(bytes: &[u8]) -> Result<String, SubtitleError> {
    let text = decode(bytes);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut cues = match sniff(&text) {
        Format::Ass => ass(&text),
        Format::Srt | Format::Vtt => timed_blocks(&text),
    };
    cues.retain(|c| c.end > c.start && !c.text.trim().is_empty());
    if cues.is_empty() {
        return Err(SubtitleError::NoCues);
    }
    cues.sort_by_key(|c| (c.start, c.end));
    let mut out = String::from("WEBVTT\n\n");
    for cue in cues {
        let _ = write!(out, "{} --> {}", stamp(cue.start), stamp(cue.end));
        if cue.top {
            out.push_str(" line:0");
        }
        out.push('\n');
        // A blank line would end the cue early.
        for line in cue.text.lines().filter(|l| !l.trim().is_empty()) {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push('\n');
    }
    Ok(out)
}

/// Tells the format from the text (Plex's `codec` is sometimes missing or wrong).
pub fn sniff(text: &str) -> Format {
    let head = text.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with("WEBVTT") {
        Format::Vtt
    } else if head.starts_with("[Script Info]")
        || text.contains("\n[Events]")
        || head.starts_with("[Events]")
    {
        Format::Ass
    } else {
        Format::Srt
    }
}

fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    let utf16 = |rest: &[u8], be: bool| {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|p| {
                if be {
                    u16::from_be_bytes([p[0], p[1]])
                } else {
                    u16::from_le_bytes([p[0], p[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, false);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, true);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

/// Windows-1252: Latin-1 with typographic characters in 0x80–0x9F.
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

fn stamp(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// `[HH:]MM:SS[,.]mmm` (SRT and WebVTT), tolerant of 1–3 fraction digits.
fn clock(s: &str) -> Option<u64> {
    let s = s.trim();
    let (whole, frac) = match s.rfind([',', '.']) {
        Some(at) => (&s[..at], &s[at + 1..]),
        None => (s, "0"),
    };
    let parts: Vec<u64> = whole
        .split(':')
        .map(|p| p.trim().parse::<u64>().ok())
        .collect::<Option<_>>()?;
    let (h, m, sec) = match parts.as_slice() {
        [h, m, s] => (*h, *m, *s),
        [m, s] => (0, *m, *s),
        _ => return None,
    };
    if m >= 60 || sec >= 60 || frac.is_empty() || frac.len() > 3 {
        return None;
    }
    let frac_ms = frac.parse::<u64>().ok()? * 10u64.pow(3 - frac.len() as u32);
    Some(((h * 60 + m) * 60 + sec) * 1000 + frac_ms)
}

/// SRT and WebVTT: blocks of a timing line (`a --> b [settings]`) and text lines.
fn timed_blocks(text: &str) -> Vec<Cue> {
    let mut cues = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((a, rest)) = line.split_once("-->") else {
            continue;
        };
        let mut after = rest.split_whitespace();
        let (Some(start), Some(end)) = (clock(a), after.next().and_then(clock)) else {
            continue;
        };
        let settings: Vec<&str> = after.collect();
        let mut top = settings
            .iter()
            .any(|s| s.strip_prefix("line:").is_some_and(is_top_line));
        let mut body = Vec::new();
        while let Some(next) = lines.peek() {
            if next.trim().is_empty() || next.contains("-->") {
                break;
            }
            body.push(*next);
            lines.next();
        }
        // An SRT cue number belongs to the next cue, not this one.
        if body.len() > 1
            && lines.peek().is_some_and(|l| l.contains("-->"))
            && body
                .last()
                .is_some_and(|l| l.trim().bytes().all(|b| b.is_ascii_digit()))
        {
            body.pop();
        }
        let mut out = Vec::new();
        for l in body {
            let (line, line_top) = markup_line(l);
            top |= line_top;
            out.push(line);
        }
        cues.push(Cue {
            start,
            end,
            text: out.join("\n"),
            top,
        });
    }
    cues
}

fn is_top_line(v: &str) -> bool {
    let v = v.split(',').next().unwrap_or(v);
    match v.strip_suffix('%') {
        Some(p) => p.parse::<f64>().is_ok_and(|p| p < 40.0),
        None => v.parse::<i64>().is_ok_and(|n| (0..=3).contains(&n)),
    }
}

/// Escapes text for a cue.
fn escape(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
}

/// An SRT/WebVTT text line: `<b>`, `<i>`, `<u>` (any case) kept, other tags dropped, ASS-style
/// `{\an8}` read for the position and dropped, the rest escaped.
fn markup_line(line: &str) -> (String, bool) {
    let mut out = String::new();
    let mut top = false;
    let mut rest = line;
    while !rest.is_empty() {
        let next = rest.find(['<', '{']).unwrap_or(rest.len());
        escape(&mut out, &rest[..next]);
        rest = &rest[next..];
        if rest.is_empty() {
            break;
        }
        let close = if rest.starts_with('<') { '>' } else { '}' };
        let Some(end) = rest.find(close) else {
            escape(&mut out, rest);
            break;
        };
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if close == '}' {
            top |= ass_block_is_top(tag);
            continue;
        }
        let t = tag.trim().to_ascii_lowercase();
        let name = t.trim_start_matches('/');
        let name = name.split(['.', ' ']).next().unwrap_or("");
        if matches!(name, "b" | "i" | "u") {
            out.push('<');
            if t.starts_with('/') {
                out.push('/');
            }
            out.push_str(name);
            out.push('>');
        }
    }
    (out, top)
}

fn ass_block_is_top(block: &str) -> bool {
    block.split('\\').any(|t| {
        t.strip_prefix("an")
            .is_some_and(|n| matches!(n.trim(), "7" | "8" | "9"))
            || t.strip_prefix('a')
                .filter(|_| !t.starts_with("an") && !t.starts_with("alpha"))
                .and_then(|n| n.trim().parse::<u8>().ok())
                .is_some_and(|n| (5..=7).contains(&n) || (9..=11).contains(&n))
    })
}

/// What an ASS style contributes: bold, italic, underline and top alignment.
#[derive(Debug, Clone, Copy, Default)]
struct Style {
    bold: bool,
    italic: bool,
    underline: bool,
    top: bool,
}

/// `H:MM:SS.cc`.
fn ass_clock(s: &str) -> Option<u64> {
    let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), "0"));
    let parts: Vec<u64> = whole
        .split(':')
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<_>>()?;
    let [h, m, sec] = parts.as_slice() else {
        return None;
    };
    if frac.is_empty() || frac.len() > 3 {
        return None;
    }
    let frac_ms = frac.parse::<u64>().ok()? * 10u64.pow(3 - frac.len() as u32);
    Some(((h * 60 + m) * 60 + sec) * 1000 + frac_ms)
}

fn flag(v: &str) -> bool {
    v.trim().parse::<i64>().is_ok_and(|n| n != 0)
}

/// ASS/SSA: styles, then `Dialogue:` lines laid out by the `[Events]` `Format:` line.
fn ass(text: &str) -> Vec<Cue> {
    let mut section = String::new();
    let mut style_format: Vec<String> = Vec::new();
    let mut event_format: Vec<String> = Vec::new();
    let mut styles: Vec<(String, Style)> = Vec::new();
    let mut cues = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_start_matches('\u{feff}').trim();
        if line.starts_with('[') && line.ends_with(']') {
            section = line.to_ascii_lowercase();
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let fields = |v: &str| -> Vec<String> {
            v.split(',')
                .map(|f| f.trim().to_ascii_lowercase())
                .collect()
        };
        match (section.as_str(), key.as_str()) {
            (s, "format") if s.contains("styles") => style_format = fields(value),
            (s, "format") if s.contains("events") => event_format = fields(value),
            (s, "style") if s.contains("styles") => {
                let values: Vec<&str> = value.split(',').collect();
                let get = |name: &str| {
                    style_format
                        .iter()
                        .position(|f| f == name)
                        .and_then(|i| values.get(i).copied())
                        .unwrap_or("")
                };
                let alignment = get("alignment").trim().parse::<u8>().unwrap_or(2);
                // V4+ alignment is numpad-like (7–9 top); SSA's old one adds 4 for top.
                let top = if s.contains("v4+") {
                    (7..=9).contains(&alignment)
                } else {
                    (5..=7).contains(&alignment)
                };
                styles.push((
                    get("name").trim().to_owned(),
                    Style {
                        bold: flag(get("bold")),
                        italic: flag(get("italic")),
                        underline: flag(get("underline")),
                        top,
                    },
                ));
            }
            (s, "dialogue") if s.contains("events") => {
                let format: Vec<String> = if event_format.is_empty() {
                    [
                        "layer", "start", "end", "style", "name", "marginl", "marginr", "marginv",
                        "effect", "text",
                    ]
                    .map(String::from)
                    .to_vec()
                } else {
                    event_format.clone()
                };
                let values: Vec<&str> = value.trim_start().splitn(format.len(), ',').collect();
                let get = |name: &str| {
                    format
                        .iter()
                        .position(|f| f == name)
                        .and_then(|i| values.get(i).copied())
                };
                let (Some(start), Some(end), Some(body)) = (
                    get("start").and_then(ass_clock),
                    get("end").and_then(ass_clock),
                    get("text"),
                ) else {
                    continue;
                };
                let style_name = get("style").unwrap_or("").trim().trim_start_matches('*');
                let style = styles
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(style_name))
                    .or_else(|| {
                        styles
                            .iter()
                            .find(|(n, _)| n.eq_ignore_ascii_case("default"))
                    })
                    .map(|(_, s)| *s)
                    .unwrap_or_default();
                let (text, top) = ass_text(body, style);
                cues.push(Cue {
                    start,
                    end,
                    text,
                    top,
                });
            }
            _ => {}
        }
    }
    merge_simultaneous(cues)
}

/// ASS shows events that overlap exactly as one block; so does WebVTT if they are one cue.
fn merge_simultaneous(mut cues: Vec<Cue>) -> Vec<Cue> {
    cues.sort_by_key(|c| (c.start, c.end, c.top));
    let mut out: Vec<Cue> = Vec::new();
    for cue in cues {
        match out.last_mut() {
            Some(last) if last.start == cue.start && last.end == cue.end && last.top == cue.top => {
                if !cue.text.trim().is_empty() {
                    last.text.push('\n');
                    last.text.push_str(&cue.text);
                }
            }
            _ => out.push(cue),
        }
    }
    out
}

/// An ASS event's text: override blocks read for bold, italic, underline, reset, position and
/// drawing mode, then dropped; `\N`/`\n` become line breaks, `\h` a no-break space.
fn ass_text(body: &str, style: Style) -> (String, bool) {
    #[derive(Clone, Copy, PartialEq)]
    struct On {
        b: bool,
        i: bool,
        u: bool,
    }
    let base = On {
        b: style.bold,
        i: style.italic,
        u: style.underline,
    };
    let mut top = style.top;
    let mut state = base;
    let mut open = On {
        b: false,
        i: false,
        u: false,
    };
    let mut drawing = false;
    let mut out = String::new();
    let mut rest = body;
    let sync = |out: &mut String, open: &mut On, want: On| {
        // Close in reverse order of opening, then open what is wanted: always well nested.
        if open.u && (!want.u || open.b != want.b || open.i != want.i) {
            out.push_str("</u>");
            open.u = false;
        }
        if open.i && (!want.i || open.b != want.b) {
            out.push_str("</i>");
            open.i = false;
        }
        if open.b && !want.b {
            out.push_str("</b>");
            open.b = false;
        }
        if want.b && !open.b {
            out.push_str("<b>");
            open.b = true;
        }
        if want.i && !open.i {
            out.push_str("<i>");
            open.i = true;
        }
        if want.u && !open.u {
            out.push_str("<u>");
            open.u = true;
        }
    };
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('{')
            && let Some(end) = after.find('}')
        {
            for tag in after[..end].split('\\').skip(1) {
                let tag = tag.trim();
                let num = |prefix: &str| {
                    tag.strip_prefix(prefix)
                        .and_then(|v| v.trim().parse::<i64>().ok())
                };
                if tag == "r" || tag.starts_with('r') && !tag.starts_with("rot") {
                    state = base;
                } else if let Some(p) = num("p") {
                    drawing = p > 0;
                } else if tag.starts_with("an") || tag.starts_with('a') && !tag.starts_with("alpha")
                {
                    top = ass_block_is_top(&format!("\\{tag}"));
                } else if tag.starts_with("pos") || tag.starts_with("move") {
                    // A position: top when it is in the upper part of a 288/360/1080-line
                    // script; unknown sizes keep the style's place.
                } else if let Some(v) = num("b") {
                    state.b = v != 0;
                } else if let Some(v) = num("i") {
                    state.i = v != 0;
                } else if let Some(v) = num("u") {
                    state.u = v != 0;
                }
            }
            rest = &after[end + 1..];
            continue;
        }
        let first = rest.chars().next().map_or(1, char::len_utf8);
        let next = rest[first..]
            .find(['{', '\\'])
            .map_or(rest.len(), |i| i + first);
        let (chunk, tail) = if let Some(escaped) = rest.strip_prefix('\\') {
            let second = escaped.chars().next().map_or(0, char::len_utf8);
            rest.split_at(1 + second)
        } else {
            rest.split_at(next)
        };
        rest = tail;
        if drawing {
            continue;
        }
        match chunk {
            "\\N" | "\\n" => {
                sync(
                    &mut out,
                    &mut open,
                    On {
                        b: false,
                        i: false,
                        u: false,
                    },
                );
                out.push('\n');
            }
            "\\h" => {
                sync(&mut out, &mut open, state);
                out.push('\u{a0}');
            }
            text => {
                if text.trim().is_empty() && open == state {
                    out.push_str(text);
                    continue;
                }
                sync(&mut out, &mut open, state);
                escape(&mut out, text);
            }
        }
    }
    sync(
        &mut out,
        &mut open,
        On {
            b: false,
            i: false,
            u: false,
        },
    );
    (out, top)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn srt_becomes_webvtt() {
        let srt = "1\r\n00:00:01,500 --> 00:00:03,000\r\nHello <i>there</i>\r\nsecond line\r\n\r\n2\r\n00:00:04,000 --> 00:00:05,250\r\n{\\an8}Top & <font color=\"red\">red</font>\r\n";
        let vtt = to_webvtt(srt.as_bytes()).unwrap();
        assert_eq!(
            vtt,
            "WEBVTT\n\n00:00:01.500 --> 00:00:03.000\nHello <i>there</i>\nsecond line\n\n00:00:04.000 --> 00:00:05.250 line:0\nTop &amp; red\n\n"
        );
    }

    #[test]
    fn srt_without_blank_lines_between_cues_still_splits() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nOne\n2\n00:00:03,000 --> 00:00:04,000\nTwo\n";
        let vtt = to_webvtt(srt.as_bytes()).unwrap();
        assert!(
            vtt.contains("00:00:01.000 --> 00:00:02.000\nOne\n\n"),
            "{vtt}"
        );
        assert!(
            vtt.contains("00:00:03.000 --> 00:00:04.000\nTwo\n"),
            "{vtt}"
        );
    }

    #[test]
    fn ass_styling_is_reduced_to_what_webvtt_shows() {
        let ass = "[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\nStyle: Default,Arial,20,&H00FFFFFF,&H0,&H0,&H0,0,0,0,0,100,100,0,0,1,2,0,2,10,10,10,1\nStyle: Top,Arial,20,&H00FFFFFF,&H0,&H0,&H0,0,-1,0,0,100,100,0,0,1,2,0,8,10,10,10,1\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\b1}Línea{\\b0} {\\c&H00FF00&}española, sí{\\r} 1\\NSecond <line>\nComment: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,not shown\nDialogue: 0,0:00:03.00,0:00:04.00,Top,,0,0,0,,On top\nDialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,{\\p1}m 0 0 l 10 10{\\p0}Drawn\n";
        let vtt = to_webvtt(ass.as_bytes()).unwrap();
        assert_eq!(
            vtt,
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n<b>Línea</b> española, sí 1\nSecond &lt;line&gt;\n\n00:00:03.000 --> 00:00:04.000 line:0\n<i>On top</i>\n\n00:00:05.000 --> 00:00:06.000\nDrawn\n\n"
        );
    }

    #[test]
    fn webvtt_is_cleaned_not_trusted() {
        let vtt = "WEBVTT\n\nNOTE hi\n\nid-1\n00:01.000 --> 00:02.000 line:10%\n<v Bob><script>x</script><b>ok</b>\n";
        let out = to_webvtt(vtt.as_bytes()).unwrap();
        assert_eq!(
            out,
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000 line:0\nx<b>ok</b>\n\n"
        );
    }

    #[test]
    fn old_encodings_and_byte_order_marks_are_read() {
        let mut latin = b"1\n00:00:01,000 --> 00:00:02,000\nCaf".to_vec();
        latin.push(0xE9); // é in Windows-1252
        latin.push(0x85); // …
        let out = to_webvtt(&latin).unwrap();
        assert!(out.contains("Café…"), "{out}");
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "1\n00:00:01,000 --> 00:00:02,000\nÜber\n".encode_utf16() {
            utf16.extend(unit.to_le_bytes());
        }
        assert!(to_webvtt(&utf16).unwrap().contains("Über"));
    }

    #[test]
    fn junk_is_a_clear_error() {
        assert_eq!(to_webvtt(b"not subtitles"), Err(SubtitleError::NoCues));
        assert_eq!(to_webvtt(&[0xFF; 64]), Err(SubtitleError::NoCues));
        assert_eq!(
            to_webvtt(b"[Script Info]\n[Events]\nDialogue: broken"),
            Err(SubtitleError::NoCues)
        );
    }
}
