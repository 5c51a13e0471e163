//! Progress on stderr for work that takes more than a second: drawn only when stderr is a
//! terminal (indicatif hides its bars otherwise), so logs and pipes get the plain lines the
//! commands print before and after.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// A spinner saying `message`, with the time elapsed.
pub fn spinner(message: &str) -> ProgressBar {
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.set_message(message.to_string());
    spinner.enable_steady_tick(Duration::from_millis(100));
    spinner
}

/// A bar over `len` steps of `what` (`"transactions signed"`), with the rate and time left.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {what} ({{per_sec}}, {{eta}} left)"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
