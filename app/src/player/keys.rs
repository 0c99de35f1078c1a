//! Keyboard shortcuts, as a pure mapping from key names to player actions (so they are
//! unit-tested and listed in one place for the help text).

/// Something the keyboard can ask the player to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyAction {
    TogglePlay,
    SeekBy(f64),
    VolumeBy(f64),
    ToggleMute,
    ToggleFullscreen,
    /// Jump to a tenth of the runtime (`0`–`9`).
    SeekToFraction(f64),
}

/// The action for a `KeyboardEvent.key` value, if any. Modifier combinations are left to the
/// browser.
pub fn action_for(key: &str, ctrl_or_meta: bool) -> Option<KeyAction> {
    if ctrl_or_meta {
        return None;
    }
    Some(match key {
        " " | "k" | "K" => KeyAction::TogglePlay,
        "ArrowLeft" => KeyAction::SeekBy(-5.0),
        "ArrowRight" => KeyAction::SeekBy(5.0),
        "j" | "J" => KeyAction::SeekBy(-10.0),
        "l" | "L" => KeyAction::SeekBy(10.0),
        "ArrowUp" => KeyAction::VolumeBy(0.1),
        "ArrowDown" => KeyAction::VolumeBy(-0.1),
        "m" | "M" => KeyAction::ToggleMute,
        "f" | "F" => KeyAction::ToggleFullscreen,
        d if d.len() == 1 && d.as_bytes()[0].is_ascii_digit() => {
            KeyAction::SeekToFraction(f64::from(d.as_bytes()[0] - b'0') / 10.0)
        }
        _ => return None,
    })
}

/// Shortcut help shown under the player.
pub const HELP: &str =
    "Space/K play · ←/→ 5 s · J/L 10 s · ↑/↓ volume · M mute · F fullscreen · 0–9 jump";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_common_shortcuts() {
        assert_eq!(action_for(" ", false), Some(KeyAction::TogglePlay));
        assert_eq!(
            action_for("ArrowLeft", false),
            Some(KeyAction::SeekBy(-5.0))
        );
        assert_eq!(action_for("l", false), Some(KeyAction::SeekBy(10.0)));
        assert_eq!(action_for("5", false), Some(KeyAction::SeekToFraction(0.5)));
        assert_eq!(action_for("f", true), None);
        assert_eq!(action_for("x", false), None);
    }
}
