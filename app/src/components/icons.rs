//! Inline SVG icons: emoji glyphs depend on the viewer's fonts (and render as boxes in many
//! Linux browsers), these do not.

use leptos::prelude::*;

/// Which icon to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IconKind {
    Play,
    Pause,
    Volume,
    Muted,
    Fullscreen,
    Film,
    Tv,
    Music,
    Photo,
}

fn path_of(kind: IconKind) -> &'static str {
    match kind {
        IconKind::Play => "M7 4.5v15l13-7.5z",
        IconKind::Pause => "M6 4h4v16H6zM14 4h4v16h-4z",
        IconKind::Volume => "M3 9h4l5-4v14l-5-4H3zM15.5 8.5a5 5 0 0 1 0 7M18 6a8.5 8.5 0 0 1 0 12",
        IconKind::Muted => "M3 9h4l5-4v14l-5-4H3zM16 9l5 6M21 9l-5 6",
        IconKind::Fullscreen => "M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5",
        IconKind::Film => "M4 5h16v14H4zM8 5v14M16 5v14M4 9h4M4 15h4M16 9h4M16 15h4",
        IconKind::Tv => "M3 7h18v12H3zM8 3l4 4 4-4",
        IconKind::Music => {
            "M9 18V6l11-2v12M9 18a3 3 0 1 1-6 0 3 3 0 0 1 6 0zM20 16a3 3 0 1 1-6 0 3 3 0 0 1 6 0z"
        }
        IconKind::Photo => "M3 5h18v14H3zM3 16l5-5 4 4 3-3 6 6",
    }
}

/// A 24×24 icon drawn in the current text colour; decorative (hidden from screen readers).
#[component]
pub fn Icon(#[prop(into)] kind: Signal<IconKind>) -> impl IntoView {
    let filled = move || matches!(kind.get(), IconKind::Play | IconKind::Pause);
    view! {
        <svg
            class="icon"
            viewBox="0 0 24 24"
            width="20"
            height="20"
            aria-hidden="true"
            fill=move || if filled() { "currentColor" } else { "none" }
            stroke=move || if filled() { "none" } else { "currentColor" }
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
        >
            <path d=move || path_of(kind.get()) />
        </svg>
    }
}
