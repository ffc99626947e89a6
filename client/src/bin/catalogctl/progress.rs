//! Progress bars on stderr, shown only to a person watching a terminal.

use std::io::IsTerminal;

use indicatif::{HumanCount, ProgressBar, ProgressState, ProgressStyle};

/// Whether progress bars should be drawn: not in JSON mode, and only on a terminal.
pub fn visible(json: bool) -> bool {
    !json && std::io::stderr().is_terminal()
}

/// A bar counting bytes out of `total`.
pub fn bytes(total: u64, visible: bool) -> ProgressBar {
    bar(
        total,
        visible,
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    )
}

/// A bar counting items out of `total`.
pub fn items(total: u64, visible: bool) -> ProgressBar {
    bar(
        total,
        visible,
        "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} {per_sec} eta {eta}",
    )
}

fn bar(total: u64, visible: bool, template: &str) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let style =
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(total).with_style(style)
}

/// A spinner with `message` and the time spent, for one long call whose progress the server does
/// not report (a delete by filter, retention).
pub fn waiting(message: &str, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let bar = ProgressBar::new_spinner()
        .with_style(style)
        .with_message(message.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// A spinner counting `unit`s and their rate per second, for streams of unknown length.
pub fn counter(unit: &str, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let template = format!("{{spinner}} [{{elapsed_precise}}] {{human_pos}} {unit} ({{rate}}/s)");
    let style = ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .with_key(
            "rate",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                // Best effort: a failed write only blanks the rate.
                let _ = write!(w, "{}", HumanCount(state.per_sec().max(0.0) as u64));
            },
        );
    let bar = ProgressBar::new_spinner().with_style(style);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
